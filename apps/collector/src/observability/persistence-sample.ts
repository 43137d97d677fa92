/**
 * What the store says about persistence: each partition's lease owner and oldest entry, and what each
 * live persister published with its heartbeat. Sampled in the background (`readiness-monitor.ts`);
 * ages are computed when an answer is made ({@link persistenceView}), so a sample a second old still
 * gives true lags.
 *
 * A persister is stalled when it says so, or when it owns partitions and its last completed pass is
 * older than its published `stallMs`: a frozen persister publishes nothing new, so only its readers
 * can see it. A partition is stuck when its oldest entry stayed the same for `stuckMs` (halted by the
 * dead-letter limit, owned by a stalled persister, or owned by nobody).
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/fastify';

/** One partition in a sample. */
export interface SampledPartition {
  partition: number;
  owner: string | null;
  /** Queue time of its oldest entry, Unix ms (null: empty). */
  oldest: number | null;
  /** Since when (sample time) `oldest` has had this value. */
  oldestSince: number;
}

/** One live persister in a sample, as it published itself. */
export interface SampledPersister {
  member: string;
  partitions: number;
  lastPassAt: number | null;
  /** It reported itself stalled. */
  stalled: boolean;
  postgresUp: boolean;
  /** Its stall threshold, ms (null: an older persister that did not publish it). */
  stallMs: number | null;
  /** Partitions it holds back past the dead-letter limit. */
  halted: number[];
}

/** One sample. */
export interface PersistenceSample {
  at: number;
  partitions: SampledPartition[];
  persisters: SampledPersister[];
}

/** What a persister publishes with its heartbeat (see `@devicelink/persister`). */
interface PublishedInfo {
  partitions?: number;
  lastPassAt?: number | null;
  stalled?: boolean;
  postgresUp?: boolean;
  stallMs?: number;
  halted?: number[];
}

/** Reads a sample; `previous` carries how long each partition's oldest entry has been the same. */
export async function samplePersistence(
  store: QueueConsumer & PartitionLeases,
  previous: PersistenceSample | null,
): Promise<PersistenceSample> {
  const [owners, oldest, members] = await Promise.all([
    store.leaseOwners(),
    Promise.all(Array.from({ length: store.partitions }, (_, p) => store.oldest(p))),
    store.members(),
  ]);
  const at = Date.now();
  return {
    at,
    partitions: owners.map((owner, partition) => {
      const ts = oldest[partition] ?? null;
      const before = previous?.partitions[partition];
      return {
        partition,
        owner,
        oldest: ts,
        oldestSince: before && before.oldest === ts ? before.oldestSince : at,
      };
    }),
    persisters: members.map(({ member, info }) => {
      let published: PublishedInfo = {};
      try {
        published = JSON.parse(info) as PublishedInfo;
      } catch {
        // Another version's format: the member is listed without details.
      }
      return {
        member,
        partitions: published.partitions ?? 0,
        lastPassAt: typeof published.lastPassAt === 'number' ? published.lastPassAt : null,
        stalled: published.stalled === true,
        postgresUp: published.postgresUp !== false,
        stallMs: typeof published.stallMs === 'number' ? published.stallMs : null,
        halted: Array.isArray(published.halted) ? published.halted.filter(Number.isInteger) : [],
      };
    }),
  };
}

/** A partition as answered. */
export interface PartitionView {
  partition: number;
  owner: string | null;
  lagMs: number;
  /** Its oldest entry has not changed for the stuck time. */
  stuck: boolean;
  /** Held back by its owner past the dead-letter limit. */
  halted: boolean;
}

/** A persister as answered. */
export interface PersisterView {
  member: string;
  partitions: number;
  lastPassAt: string | null;
  stalled: boolean;
  postgresUp: boolean;
}

/** A sample's partitions and persisters as of `now`. */
export function persistenceView(
  sample: PersistenceSample | null,
  options: { now: number; stuckMs: number; defaultStallMs: number },
): { partitions: PartitionView[]; persisters: PersisterView[]; lagMs: number } {
  if (!sample) return { partitions: [], persisters: [], lagMs: 0 };
  const { now, stuckMs, defaultStallMs } = options;
  const halted = new Set(sample.persisters.flatMap((p) => p.halted));
  let lagMs = 0;
  const partitions = sample.partitions.map((p) => {
    const lag = p.oldest === null ? 0 : Math.max(0, now - p.oldest);
    lagMs = Math.max(lagMs, lag);
    return {
      partition: p.partition,
      owner: p.owner,
      lagMs: lag,
      stuck: p.oldest !== null && now - p.oldestSince >= stuckMs,
      halted: halted.has(p.partition),
    };
  });
  const persisters = sample.persisters.map((p) => ({
    member: p.member,
    partitions: p.partitions,
    lastPassAt: p.lastPassAt === null ? null : new Date(p.lastPassAt).toISOString(),
    stalled:
      p.stalled ||
      (p.partitions > 0 && p.lastPassAt !== null && now - p.lastPassAt > (p.stallMs ?? defaultStallMs)),
    postgresUp: p.postgresUp,
  }));
  return { partitions, persisters, lagMs };
}
