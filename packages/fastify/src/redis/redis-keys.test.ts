import { partitionOf } from '@devicelink/protocol';
import { describe, expect, it } from 'vitest';
import { partitionTag, RedisKeys } from './redis-keys.js';

describe('Redis key layout', () => {
  it('tags a partition {pN}', () => {
    expect(partitionTag(7)).toBe('{p7}');
  });

  it('puts every key of a device in the slot of its partition stream', () => {
    const keys = new RedisKeys('dl:', 16);
    const tag = partitionTag(partitionOf('device-aaaaaaaaaaaa', 16));
    const { partition, ...device } = keys.device('device-aaaaaaaaaaaa');
    expect(partition).toBe(partitionOf('device-aaaaaaaaaaaa', 16));
    for (const key of Object.values(device)) expect(key.startsWith(`dl:${tag}:`)).toBe(true);
    expect(device.stream).toBe(keys.stream(partitionOf('device-aaaaaaaaaaaa', 16)));
  });
});
