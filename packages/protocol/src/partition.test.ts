import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf } from './partition.js';

describe('partitioning', () => {
  it('hashes with FNV-1a 32-bit (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of any string, on the ASCII fast path and off it', () => {
    const reference = (s: string) => {
      let hash = 0x811c9dc5;
      for (const byte of new TextEncoder().encode(s)) hash = Math.imul(hash ^ byte, 0x01000193);
      return hash >>> 0;
    };
    expect(fnv1a32('caf\u00e9')).toBe(reference('caf\u00e9'));
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => fnv1a32(s) === reference(s)));
    fc.assert(fc.property(fc.string(), (s) => fnv1a32(s) === reference(s)));
  });

  it('spreads ids over every partition', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(partitionOf(`device-${i}-xxxxxxxxxx`, 64));
    expect(seen.size).toBe(64);
  });
});
