/**
 * The rate-limit counters of the memory store (`store/rate-limits.ts`): fixed windows in a bounded
 * map. Counting is synchronous, so a caller that counts and writes without an `await` between them
 * does both in one atomic step, as the Redis scripts do.
 */
import {
  type LimitCounter,
  type Limited,
  type LimitState,
  limitCounters,
  limitState,
  type RateLimits,
} from '../store/rate-limits.js';
import { ExpiringMap } from './expiring-map.js';

interface Window {
  count: number;
  resetAt: number;
}

/** Counters of one memory store. */
export class MemoryLimits {
  readonly #windows: ExpiringMap<string, Window>;
  readonly #now: () => number;
  /** The counters of a call (a promise only while the day's salt is not in hand). */
  readonly counters: (limits: RateLimits) => LimitCounter[] | Promise<LimitCounter[]>;

  constructor(dailySalt: (day: string) => Promise<Buffer>, now: () => number, maxEntries: number) {
    this.#windows = new ExpiringMap(maxEntries, now);
    this.#now = now;
    const list = limitCounters(dailySalt);
    this.counters = (limits) => list(limits, now());
  }

  /**
   * Counts `counters` in order; the first over its limit refuses and the ones after it are not
   * counted. Answers the client counter's state when every counter allows.
   */
  count(counters: LimitCounter[], windowMs: number): LimitState | Limited {
    const now = this.#now();
    let state: LimitState = limitState(0, 0, 0);
    for (const c of counters) {
      let w = this.#windows.get(c.name);
      if (!w) {
        w = { count: 0, resetAt: now + windowMs };
        this.#windows.set(c.name, w, windowMs);
      }
      w.count += 1;
      state = limitState(c.max, w.count, w.resetAt - now);
      if (w.count > c.max) return { status: 'limited', by: c.by, limit: state };
    }
    return state;
  }

  /** Drops expired windows. */
  sweep(): void {
    this.#windows.sweep();
  }
}

/** True when `count` refused. */
export const isLimited = (r: LimitState | Limited): r is Limited => 'status' in r;
