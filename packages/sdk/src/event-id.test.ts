import { isUuid, parseEventsBody, uuidv7 } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { eventId } from './event-id.js';

// Every time a browser's Date.now() can give: integers from 0 to 2^48 - 1.
const times = fc.integer({ min: 0, max: 2 ** 48 - 1 });

describe('eventId', () => {
  test('agrees with the protocol on generated times: a UUIDv7 with the same 48-bit time, which the collector accepts', () => {
    fc.assert(
      fc.property(times, (now) => {
        const id = eventId(now);
        expect(isUuid(id)).toBe(true);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        // Time, dashes and version: the first 15 characters are the protocol's for the same time.
        expect(id.slice(0, 15)).toBe(uuidv7(now).slice(0, 15));
        const parsed = parseEventsBody({ events: [{ type: 'pageview', url: '/', id, ts: now }] });
        expect(parsed.ok && parsed.value.events[0]!.id).toBe(id);
      }),
    );
  });

  test('whatever bytes crypto.getRandomValues gives, they fill the 74 random bits and the format holds', () => {
    const original = crypto.getRandomValues;
    try {
      fc.assert(
        fc.property(times, fc.uint8Array({ minLength: 19, maxLength: 19 }), (now, bytes) => {
          crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T) => {
            new Uint8Array(array!.buffer).set(bytes.subarray(0, array!.byteLength));
            return array;
          };
          const id = eventId(now);
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          const hex = id.replace(/-/g, '');
          // Random bits: the 3 digits after the version, the low 2 bits of the variant digit, then 15
          // digits, each from one byte in turn (its low 4 bits, the variant digit its low 2).
          const digits = [...hex.slice(13, 16), ...hex.slice(17)].map((d) => Number.parseInt(d, 16));
          expect(digits).toEqual([...bytes.subarray(0, 3), ...bytes.subarray(4)].map((b) => b & 0x0f));
          expect(Number.parseInt(hex[16]!, 16)).toBe(8 | (bytes[3]! & 3));
        }),
      );
    } finally {
      crypto.getRandomValues = original;
    }
  });

  test('ids made in one millisecond differ, and ids sort by time', () => {
    const same = Array.from({ length: 1000 }, () => eventId(1_700_000_000_000));
    expect(new Set(same).size).toBe(same.length);
    const later = Array.from({ length: 100 }, (_, i) => eventId(1_700_000_000_000 + i * 1000));
    expect([...later].sort()).toEqual(later);
  });
});
