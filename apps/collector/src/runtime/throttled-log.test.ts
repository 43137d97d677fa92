import { afterEach, describe, expect, it, vi } from 'vitest';
import { repeatedErrorLog } from './throttled-log.js';

describe('repeatedErrorLog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a failure that repeats for every partition once per interval, with its stack only the first time', () => {
    vi.useFakeTimers();
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const warn = repeatedErrorLog(
      { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
      1_000,
    );
    const burst = () => {
      for (let p = 0; p < 32; p++) {
        const err = new Error('Command timed out');
        warn(
          err,
          `leases (take over partition ${p})`,
          `persister: leases (take over partition ${p}) error, retrying`,
        );
      }
    };
    burst();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.obj.err).toBeInstanceOf(Error);
    expect(lines[0]!.obj.repeats).toBe(0);
    vi.advanceTimersByTime(1_001);
    burst();
    expect(lines).toHaveLength(2);
    // The same kind again: counted, no stack (a summary instead of the Error).
    expect(lines[1]!.obj).toEqual({ err: { type: 'Error', message: 'Command timed out' }, repeats: 31 });
    // Another kind of failure gets its own line and its own first stack.
    warn(
      Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }),
      'postgres',
      'persister: postgres error, retrying',
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]!.obj.err).toBeInstanceOf(Error);
  });
});
