import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf } from './partition.js';

describe('partitioning', () => {
  it('hashes with FNV-1a 32-bit (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('spreads ids over every partition', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(partitionOf(`device-${i}-xxxxxxxxxx`, 64));
    expect(seen.size).toBe(64);
  });
});
