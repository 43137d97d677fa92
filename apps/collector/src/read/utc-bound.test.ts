import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUtcBound } from './utc-bound.js';

describe('parseUtcBound', () => {
  it('reads a date as midnight UTC and a time with Z or +00:00', () => {
    expect(parseUtcBound('2026-01-31')?.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseUtcBound('2026-01-31T12:30:05Z')?.toISOString()).toBe('2026-01-31T12:30:05.000Z');
    expect(parseUtcBound('2026-01-31T12:30:05.25+00:00')?.toISOString()).toBe('2026-01-31T12:30:05.250Z');
    expect(parseUtcBound('2026-01-31T12:30Z')?.toISOString()).toBe('2026-01-31T12:30:00.000Z');
  });

  it('refuses other zones, bare local times, impossible dates and junk', () => {
    for (const bad of [
      '2026-01-31T12:00:00+02:00',
      '2026-01-31T12:00:00',
      '2026-02-30',
      '2026-13-01',
      '2026-01-31T24:00:00Z',
      '31/01/2026',
      '1769817600000',
      '',
      'now',
    ]) {
      expect(parseUtcBound(bad), bad).toBeNull();
    }
    expect(parseUtcBound(undefined)).toBeNull();
    expect(parseUtcBound(['2026-01-01'])).toBeNull();
  });

  it('reads back every instant written by toISOString', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01Z'), max: new Date('9999-12-31Z'), noInvalidDate: true }),
        (d) => {
          expect(parseUtcBound(d.toISOString())?.getTime()).toBe(d.getTime());
        },
      ),
    );
  });

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseUtcBound(s);
        expect(r === null || !Number.isNaN(r.getTime())).toBe(true);
      }),
    );
  });
});
