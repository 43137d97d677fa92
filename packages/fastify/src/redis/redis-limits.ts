/**
 * Rate limits on Redis (`store/rate-limits.ts`). On one Redis node a write's script counts every
 * counter itself: one round trip, one atomic step. A Redis Cluster lets a script touch one slot only:
 * counters in the write's slot (a device's own counter beside its session) are still counted by the
 * script; the others (an address's counters live in the address's slot, so the per-address limit stays
 * global instead of becoming per-partition) go out as a `dlLimit` command in the same tick, pipelined
 * with the write by ioredis: still one round trip. Such a counter cannot stop a write already sent,
 * so what this process last heard of it decides the order: over its limit, the call is refused here
 * without Redis; at half its limit or more, the counter is asked first and the write sent only when
 * allowed (two round trips, only for busy addresses); below that, both go out together. A limit with
 * a counter outside the write's slot can so admit, past its limit, the calls one process had in flight
 * when another process pushed it over (at most the requests in flight; the next reply refuses).
 *
 * The new-id limits (per network) count only a device the store does not know, which the touch
 * script decides. On one node the script counts them too. On a Cluster they live in their networks'
 * slots: the script answers `new` for an unknown device without writing, their counters are asked, and
 * the write is sent again (up to four more round trips, for the first request of a new id only).
 */
import { partitionOf } from '@devicelink/protocol';
import {
  type LimitCounter,
  type Limited,
  type LimitState,
  limitCounters,
  limitState,
  type RateLimits,
  splitNew,
} from '../store/rate-limits.js';
import type { CommandClient } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';

/** A counter and its Redis key. */
interface PlacedCounter extends LimitCounter {
  key: string;
  /** Its limit as the scripts take it: negative for a counter in a session hash (limits.lua). */
  arg: number;
}

/** One shape for every placed counter (a spread of counters of two shapes was a measurable cost). */
const placed = (c: LimitCounter, key: string): PlacedCounter => ({
  by: c.by,
  name: c.name,
  max: c.max,
  anchor: c.anchor,
  key,
  arg: c.inSession === undefined ? c.max : -c.max,
});

/** A call's counters, placed: those its script counts, and the others by slot. */
export interface LimitPlan {
  windowMs: number;
  /** Counted by the write's script, in order (at most two). */
  inScript: PlacedCounter[];
  /** The script's counter arguments: its two counter keys (unused: `filler`) and the window and limits. */
  scriptKeys: [string, string];
  scriptArgs: [number, number, number];
  /** Counted by `dlLimit` commands, one per slot, in order. */
  outside: PlacedCounter[][];
  /** The new-id counters (`touch` only). */
  newIds: NewIdPlan;
}

/** Where a call's new-id counters are counted: by the touch script (`count`) or asked (`ask`). */
export interface NewIdPlan {
  /** '' when there are none. */
  mode: '' | 'count' | 'ask';
  /** In order: host, network, block. */
  counters: PlacedCounter[];
  windowMs: number;
  /** The script's three new-id counter keys (unused: `filler`), and its window and three limits. */
  scriptKeys: [string, string, string];
  scriptArgs: [number, number, number, number];
}

/** What the outside counters said: refused, or the client counter's state (null: it was in the script). */
type Outside = Limited | LimitState | null;

const isLimited = (r: Outside): r is Limited => r !== null && 'status' in r;

/** How many counters' last replies are remembered (a Map cleared when full: a cache, not a ledger). */
const KNOWN_MAX = 10_000;

/** The rate limits of one Redis store. */
export class RedisLimits {
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;
  readonly #cluster: boolean;
  readonly #counters: (limits: RateLimits) => LimitCounter[] | Promise<LimitCounter[]>;
  /** Keys of counters by name (a name fixes its slot): clients repeat, so most requests find theirs. */
  readonly #placed = new Map<string, string>();
  /** Outside counters: count and end of window, as last heard (Cluster only). */
  readonly #known = new Map<string, { count: number; max: number; resetAt: number }>();

  constructor(redis: CommandClient, keys: RedisKeys, dailySalt: (day: string) => Promise<Buffer>) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cluster = redis.isCluster;
    this.#counters = limitCounters(dailySalt);
  }

  /**
   * Places the counters of `limits` for a write in the slot of `partition`; `filler` is a key of that
   * slot, passed for unused counter keys.
   */
  async plan(limits: RateLimits | undefined, partition: number, filler: string): Promise<LimitPlan> {
    const plan: LimitPlan = {
      windowMs: limits?.windowMs ?? 0,
      inScript: [],
      scriptKeys: [filler, filler],
      scriptArgs: [limits?.windowMs ?? 0, 0, 0],
      outside: [],
      newIds: {
        mode: '',
        counters: [],
        windowMs: 0,
        scriptKeys: [filler, filler, filler],
        scriptArgs: [0, 0, 0, 0],
      },
    };
    if (!limits) return plan;
    const { always: counters, onlyNew } = splitNew(await this.#counters(limits));
    if (onlyNew.length > 0 && limits.newIds) this.#planNew(plan.newIds, onlyNew, limits.newIds.windowMs);
    if (!this.#cluster) {
      // One node: every counter goes into the write's script, whatever its slot.
      for (const c of counters) {
        plan.inScript.push(placed(c, this.#keyOf(c)));
      }
    } else {
      const bySlot = new Map<number, PlacedCounter[]>();
      for (const c of counters) {
        const slot = partitionOf(c.anchor, this.#keys.partitions);
        const p = placed(c, this.#keyOf(c));
        if (slot === partition) plan.inScript.push(p);
        else bySlot.set(slot, [...(bySlot.get(slot) ?? []), p]);
      }
      plan.outside = [...bySlot.values()];
    }
    plan.inScript.forEach((c, i) => {
      plan.scriptKeys[i] = c.key;
      plan.scriptArgs[i + 1] = c.arg;
    });
    return plan;
  }

  /** Places the new-id counters: in the script on one node, asked on a Cluster. */
  #planNew(plan: NewIdPlan, counters: LimitCounter[], windowMs: number): void {
    plan.mode = this.#cluster ? 'ask' : 'count';
    plan.windowMs = windowMs;
    plan.scriptArgs[0] = windowMs;
    counters.forEach((c, i) => {
      const p = placed(c, this.#keyOf(c));
      plan.counters.push(p);
      if (this.#cluster) return;
      plan.scriptKeys[i] = p.key;
      plan.scriptArgs[i + 1] = p.arg;
    });
  }

  /** The key of a counter in its anchor's slot; kept (bounded), since a page view places up to five. */
  #keyOf(c: LimitCounter): string {
    let key = this.#placed.get(c.name);
    if (key === undefined) {
      if (this.#placed.size >= KNOWN_MAX) this.#placed.clear();
      key =
        c.inSession === undefined
          ? this.#keys.counter(c.name, partitionOf(c.anchor, this.#keys.partitions))
          : this.#keys.device(c.inSession).session;
      this.#placed.set(c.name, key);
    }
    return key;
  }

  /**
   * Counts the new-id counters of a Cluster plan (the script answered `new`), one `dlLimit` each, in
   * order, as the script does on one node: the first refusal, after which the wider ones are not
   * counted (an address over its limit does not spend its neighbours' room), or null.
   */
  async countNew(plan: LimitPlan): Promise<Limited | null> {
    const { counters, windowMs } = plan.newIds;
    for (const c of counters) {
      const [position, count, ttl] = (await this.#redis.dlLimit(c.key, c.key, windowMs, c.arg, 0)).map(
        Number,
      );
      if (position === 1) return { status: 'limited', by: c.by, limit: limitState(c.max, count!, ttl!) };
    }
    return null;
  }

  /** The refusal of the script's new-id counter at `position` (1-based). */
  newIdRefusal(plan: LimitPlan, position: number, count: number, ttl: number): Limited {
    const c = plan.newIds.counters[position - 1]!;
    return { status: 'limited', by: c.by, limit: limitState(c.max, count, ttl) };
  }

  /**
   * Runs `write` (the script, with the plan's script arguments) and the outside counters as the
   * module comment says. `written` is null when the outside counters refused first.
   */
  async guard<T>(plan: LimitPlan, write: () => Promise<T>): Promise<{ written: T | null; outside: Outside }> {
    if (plan.outside.length === 0) return { written: await write(), outside: null };
    const heard = this.#heard(plan.outside.flat());
    if (heard === 'over') {
      return { written: null, outside: this.#refusedHere(plan.outside.flat()) };
    }
    if (heard === 'near') {
      const outside = await this.#countOutside(plan);
      return isLimited(outside) ? { written: null, outside } : { written: await write(), outside };
    }
    const [outside, written] = await Promise.all([this.#countOutside(plan), write()]);
    return { written, outside };
  }

  /** Counts every counter of `plan` alone (no write): the `limit()` operation. */
  async countAll(plan: LimitPlan): Promise<Limited | LimitState> {
    const groups = plan.inScript.length > 0 ? [plan.inScript, ...plan.outside] : plan.outside;
    const outside = await this.#countOutside({ ...plan, outside: groups });
    return outside ?? limitState(0, 0, 0);
  }

  /**
   * The state of the call from the script's reply (`position`, count, ms left of the refusing or last
   * counter) and the outside counters: refused by the script, or the client counter's state.
   */
  resolve(
    plan: LimitPlan,
    position: number,
    count: number,
    ttl: number,
    outside: Outside,
  ): Limited | LimitState | undefined {
    if (position > 0) {
      const c = plan.inScript[position - 1]!;
      return { status: 'limited', by: c.by, limit: limitState(c.max, count, ttl) };
    }
    // Written while an outside counter said no: it went out in the same tick (module comment).
    if (isLimited(outside)) return outside.limit;
    if (outside !== null) return outside;
    const last = plan.inScript.at(-1);
    return last ? limitState(last.max, count, ttl) : undefined;
  }

  /** One `dlLimit` per slot, all in one tick; the first refusal in order wins, else the client state. */
  async #countOutside(plan: LimitPlan): Promise<Outside> {
    const replies = await Promise.all(
      plan.outside.map((group) => {
        const [a, b] = group;
        return this.#redis.dlLimit(a!.key, b?.key ?? a!.key, plan.windowMs, a!.arg, b?.arg ?? 0);
      }),
    );
    const now = Date.now();
    let result: Outside = null;
    plan.outside.forEach((group, g) => {
      const reply = replies[g]!.map(Number);
      const position = reply[0]!;
      group.forEach((c, i) => {
        const count = reply[1 + 2 * i];
        const ttl = reply[2 + 2 * i];
        if (count === undefined || ttl === undefined) return;
        this.#remember(c, count, now + ttl);
        if (isLimited(result)) return;
        if (position === i + 1)
          result = { status: 'limited', by: c.by, limit: limitState(c.max, count, ttl) };
        else if (c.by === 'client') result = limitState(c.max, count, ttl);
      });
    });
    return result;
  }

  /** What this process last heard of `counters`: one over its limit, one at half or more, or neither. */
  #heard(counters: LimitCounter[]): 'over' | 'near' | 'far' {
    const now = Date.now();
    let heard: 'near' | 'far' = 'far';
    for (const c of counters) {
      const k = this.#known.get(c.name);
      if (!k || k.resetAt <= now) continue;
      if (k.count >= c.max) return 'over';
      if (k.count * 2 >= c.max) heard = 'near';
    }
    return heard;
  }

  #refusedHere(counters: LimitCounter[]): Limited {
    const now = Date.now();
    const c = counters.find((x) => {
      const k = this.#known.get(x.name);
      return k !== undefined && k.resetAt > now && k.count >= x.max;
    })!;
    const k = this.#known.get(c.name)!;
    return { status: 'limited', by: c.by, limit: limitState(c.max, k.count, k.resetAt - now) };
  }

  #remember(c: LimitCounter, count: number, resetAt: number): void {
    if (this.#known.size >= KNOWN_MAX) this.#known.clear();
    this.#known.set(c.name, { count, max: c.max, resetAt });
  }
}
