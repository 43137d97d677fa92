import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createVisitorHasher, utcDay } from './visitor-hash.js';

const input = { ip: '203.0.113.9', userAgent: 'UA/1.0', acceptLanguage: 'de-CH' };
const DAY1 = Date.UTC(2025, 0, 1, 12);
const DAY2 = Date.UTC(2025, 0, 2, 0, 0, 1);

function saltStore() {
  const salts = new Map<string, Buffer>();
  return {
    dailySalt: vi.fn(async (day: string) => {
      if (!salts.has(day)) salts.set(day, randomBytes(32));
      return salts.get(day)!;
    }),
  };
}

describe('createVisitorHasher', () => {
  it('gives the same 128-bit base64url hash for the same inputs and day, on any hasher of the store', async () => {
    const store = saltStore();
    const a = await createVisitorHasher(store).hash(input, DAY1);
    const b = await createVisitorHasher(store).hash(input, DAY1 + 3_600_000);
    expect(a).toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain('203');
  });

  it('changes with the day and with each input', async () => {
    const h = createVisitorHasher(saltStore());
    const base = await h.hash(input, DAY1);
    expect(await h.hash(input, DAY2)).not.toBe(base);
    expect(await h.hash({ ...input, ip: '203.0.113.10' }, DAY1)).not.toBe(base);
    expect(await h.hash({ ...input, userAgent: 'UA/2.0' }, DAY1)).not.toBe(base);
    expect(await h.hash({ ...input, acceptLanguage: 'fr' }, DAY1)).not.toBe(base);
  });

  it("asks the store for the salt of the request's UTC day, and again after a failed fetch", async () => {
    const store = saltStore();
    const h = createVisitorHasher(store);
    await h.hash(input, DAY1);
    store.dailySalt.mockRejectedValueOnce(new Error('store down'));
    await expect(h.hash(input, DAY2)).rejects.toThrow('store down');
    await expect(h.hash(input, DAY2)).resolves.toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(store.dailySalt.mock.calls.map((c) => c[0])).toEqual(['2025-01-01', '2025-01-02', '2025-01-02']);
  });

  it('names UTC days', () => {
    expect(utcDay(Date.UTC(2025, 11, 31, 23, 59, 59))).toBe('2025-12-31');
    // The formatted day is reused within a day: any order of times still gives each one's own day.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { maxLength: 20 }), (times) => {
        for (const t of times) expect(utcDay(t)).toBe(new Date(t).toISOString().slice(0, 10));
      }),
    );
  });
});
