/**
 * The ingest cost of classification (benchmark `bots`, reported with no pass line: it counts inside the
 * ingest target's budget): two collectors (persister off) on the run's Redis, one with `BOT_FILTER=on`
 * (the default: every page view classified, its network hashed) and one with `BOT_FILTER=off`, under
 * the ingest step's wrk load (1 event per request, 50 connections) in alternating windows; the ratio of
 * each round, and their median.
 */
import type { BenchContext } from '../bench-context.js';
import { ensureWrk, runWrk, type WrkResult } from '../wrk-load.js';

/** What the alternating rounds measured. */
export interface FilterIngest {
  rounds: { on: WrkResult; off: WrkResult; ratio: number }[];
  /** Median of the rounds' on/off req/s ratios. */
  ratio: number;
  windowSeconds: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs `rounds` rounds of `seconds` windows, the order alternating. */
export async function filterIngest(
  ctx: BenchContext,
  rounds: number,
  seconds: number,
): Promise<FilterIngest> {
  ensureWrk();
  const on = await ctx.startCollector({
    PERSISTER: 'off',
    BOT_FILTER: 'on',
    REDIS_KEY_PREFIX: `${ctx.prefix}botson:`,
  });
  const off = await ctx.startCollector({
    PERSISTER: 'off',
    BOT_FILTER: 'off',
    REDIS_KEY_PREFIX: `${ctx.prefix}botsoff:`,
  });
  try {
    const load = (url: string, s: number) =>
      runWrk({ url, connections: 50, seconds: s, eventsPerRequest: 1 });
    await load(on.url, ctx.settings.warmupSeconds);
    await load(off.url, ctx.settings.warmupSeconds);
    const out: FilterIngest['rounds'] = [];
    for (let r = 0; r < rounds; r++) {
      const first = r % 2 === 0 ? 'on' : 'off';
      const a = await load(first === 'on' ? on.url : off.url, seconds);
      const b = await load(first === 'on' ? off.url : on.url, seconds);
      const [onResult, offResult] = first === 'on' ? [a, b] : [b, a];
      out.push({ on: onResult, off: offResult, ratio: onResult.reqPerSec / offResult.reqPerSec });
    }
    return { rounds: out, ratio: median(out.map((r) => r.ratio)), windowSeconds: seconds };
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}
