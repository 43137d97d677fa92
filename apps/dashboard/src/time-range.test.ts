import { describe, expect, it } from 'vitest';
import { counted } from './dom.js';
import { DEFAULT_PRESET, rangeOf } from './time-range.js';

const HOUR = 3_600_000;

describe('the default range', () => {
  // A fresh demo's clicks are minutes old: the range the page opens with must hold them and the whole
  // of today, whatever the browser's zone and however close to a whole hour or midnight it is opened.
  const zones = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham', 'Pacific/Kiritimati'];
  const instants = [
    '2026-12-08T00:00:00Z',
    '2026-12-07T23:59:59Z',
    '2026-03-29T01:30:00Z',
    '2026-06-15T12:34:56Z',
  ];
  for (const tz of zones) {
    for (const at of instants) {
      it(`holds the last minutes and the whole of today (${tz}, ${at})`, () => {
        const now = new Date(at);
        const { from, to } = rangeOf(DEFAULT_PRESET, tz, now);
        expect(from.getTime()).toBeLessThanOrEqual(now.getTime() - 24 * HOUR);
        expect(to.getTime()).toBeGreaterThan(now.getTime());
        // Whole UTC hours: what the read API accepts.
        expect(from.getTime() % HOUR).toBe(0);
        expect(to.getTime() % HOUR).toBe(0);
      });
    }
  }
});

describe('counted', () => {
  it('reads "1 device", "0 devices", "2 devices", and a missing count as plural', () => {
    const noun = ['device', 'devices'] as const;
    expect([1, 0, 2, null].map((n) => counted(n, noun))).toEqual(['device', 'devices', 'devices', 'devices']);
  });
});
