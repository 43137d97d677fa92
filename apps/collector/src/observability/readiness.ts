/**
 * The readiness answer (`GET /readyz`, and the readiness gauges of /metrics) made from the state the
 * readiness monitor keeps, with no I/O: see `health-routes.ts` for what it means.
 */
import type { Persister } from '@devicelink/persister';
import { persistenceView } from './persistence-sample.js';
import type { ReadinessMonitor } from './readiness-monitor.js';

/** What a readiness answer is made from. */
export interface ReadinessOptions {
  monitor: ReadinessMonitor;
  persister: Persister | null;
  store: 'redis' | 'embedded';
  /** Where the start-up migrations stand (`pending` while Postgres is unreachable, `failed` when broken). */
  migrations: () => 'applied' | 'pending' | 'failed';
  /** A partition whose oldest entry has not changed for this long is reported stuck, ms (the lease time). */
  stuckMs: number;
  /** The stall time of persisters that do not publish theirs, ms (half the lease time). */
  stallMs: number;
}

/** The /readyz answer (and what the readiness gauges read). */
export type Readiness = ReturnType<typeof readinessOf>;

/** The /readyz answer for `role` as of `now` (no I/O). */
export function readinessOf(options: ReadinessOptions, role: 'ingest' | 'read', now: number) {
  const snap = options.monitor.snapshot();
  const own = options.persister?.status(now) ?? null;
  const view = persistenceView(snap.persistence, {
    now,
    stuckMs: options.stuckMs,
    defaultStallMs: options.stallMs,
  });
  const halted = new Set([
    ...view.partitions.filter((p) => p.halted).map((p) => p.partition),
    ...(own?.halted.map((h) => h.partition) ?? []),
  ]);
  const migrations = options.migrations();
  let error: string | null = null;
  if (!snap.store.up) error = `the store does not take writes: ${snap.store.error}`;
  else if (role === 'read' && !snap.postgres.up) error = `Postgres is unreachable: ${snap.postgres.error}`;
  else if (role === 'read' && migrations !== 'applied') error = `the database migrations are ${migrations}`;
  return {
    status: error === null ? ('ready' as const) : ('unavailable' as const),
    role,
    store: options.store,
    storeWritable: snap.store.up,
    postgres: snap.postgres.up ? ('up' as const) : ('down' as const),
    persister: options.persister ? ('on' as const) : ('off' as const),
    migrations,
    // The queue's own oldest entry (true with PERSISTER=off), or what this persister holds in hand.
    persistLagMs: Math.max(view.lagMs, own?.lagMs ?? 0),
    deadLetters: snap.deadLetters,
    haltedPartitions: [...halted].sort((a, b) => a - b),
    stuckPartitions: view.partitions.filter((p) => p.stuck).map((p) => p.partition),
    ownPersister: own
      ? {
          member: own.member,
          partitions: own.partitions.length,
          stalled: own.stalled,
          standby: own.standby,
          lastPassAt: own.lastPassAt === null ? null : new Date(own.lastPassAt).toISOString(),
        }
      : null,
    partitions: view.partitions.map((p) => ({ ...p, halted: halted.has(p.partition) })),
    persisters: view.persisters,
    checkedAt: snap.checkedAt === null ? null : new Date(snap.checkedAt).toISOString(),
    error,
  };
}
