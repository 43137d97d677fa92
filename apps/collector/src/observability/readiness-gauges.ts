/**
 * The gauges that read the state /readyz answers from (`health-routes.ts`): a scrape never
 * probes Redis or Postgres for them, and shows what a balancer's check sees.
 *
 * | series | type | labels |
 * | --- | --- | --- |
 * | `devicelink_store_writable` | gauge | 1 when the store took the last probe write (0: refused, e.g. `OOM`, `READONLY`, or unreachable) |
 * | `devicelink_postgres_up` | gauge | 1 when Postgres answered the last probe, else 0 |
 * | `devicelink_persist_lag_seconds` | gauge | `partition`: age of its oldest entry not yet persisted |
 * | `devicelink_partition_owner` | gauge | `partition`, `owner`: 1 for the persister holding the partition's lease (no series: unowned) |
 * | `devicelink_partition_halted` | gauge | `partition`: 1 when held back past the dead-letter limit |
 * | `devicelink_partition_stuck` | gauge | `partition`: 1 when its oldest entry has not moved for a lease time |
 * | `devicelink_dead_letters` | gauge | rows in `dead_letters` (no sample before Postgres answered a count) |
 * | `devicelink_persister_partitions` | gauge | `member`: partitions each live persister holds |
 * | `devicelink_persister_stalled` | gauge | `member`: 1 when it owns partitions but completed no pass for its stall time |
 * | `devicelink_persister_last_pass_age_seconds` | gauge | `member`: time since its last completed pass (-1: none yet) |
 */
import { Gauge, type Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

type Label = 'partition' | 'owner' | 'member';

/** Registers one gauge whose scrape fills it from one read of the readiness state. */
type AddGauge = (
  name: string,
  help: string,
  labelNames: readonly Label[],
  fill: (g: Gauge<Label>, r: Readiness, now: number) => void,
) => void;

/** Registers the readiness gauges on `registry`; each scrape reads `readiness()` once per gauge. */
export function registerReadinessGauges(registry: Registry, readiness: () => Readiness): void {
  const gauge: AddGauge = (name, help, labelNames, fill) => {
    new Gauge<Label>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this, readiness(), Date.now());
      },
    });
  };
  gauge('devicelink_store_writable', '1 when the store took the last probe write, else 0.', [], (g, r) =>
    g.set(r.storeWritable ? 1 : 0),
  );
  gauge('devicelink_postgres_up', '1 when Postgres answered the last probe, else 0.', [], (g, r) =>
    g.set(r.postgres === 'up' ? 1 : 0),
  );
  partitionGauges(gauge);
  gauge('devicelink_dead_letters', 'Rows in dead_letters: records Postgres refused alone.', [], (g, r) => {
    if (r.deadLetters !== null) g.set(r.deadLetters);
  });
  persisterGauges(gauge);
}

/** Lag, owner, halted and stuck, per queue partition. */
function partitionGauges(gauge: AddGauge): void {
  gauge(
    'devicelink_persist_lag_seconds',
    'Age of the oldest queued entry not yet persisted to Postgres, seconds, by partition.',
    ['partition'],
    (g, r) => {
      for (const p of r.partitions) g.set({ partition: String(p.partition) }, p.lagMs / 1000);
    },
  );
  gauge(
    'devicelink_partition_owner',
    '1 for the persister holding the lease of each queue partition (no series for an unowned one).',
    ['partition', 'owner'],
    (g, r) => {
      for (const p of r.partitions)
        if (p.owner !== null) g.set({ partition: String(p.partition), owner: p.owner }, 1);
    },
  );
  const perPartition = (name: string, help: string, of: (p: Readiness['partitions'][number]) => boolean) =>
    gauge(name, help, ['partition'], (g, r) => {
      for (const p of r.partitions) g.set({ partition: String(p.partition) }, of(p) ? 1 : 0);
    });
  perPartition(
    'devicelink_partition_halted',
    '1 when a partition is held back because more of its entries failed alone than the dead-letter limit.',
    (p) => p.halted,
  );
  perPartition(
    'devicelink_partition_stuck',
    '1 when the oldest entry of a partition has not moved for a lease time (not advancing).',
    (p) => p.stuck,
  );
}

/** Partitions held, stalled and the last pass's age, per live persister. */
function persisterGauges(gauge: AddGauge): void {
  const perMember = (
    name: string,
    help: string,
    of: (m: Readiness['persisters'][number], now: number) => number,
  ) =>
    gauge(name, help, ['member'], (g, r, now) => {
      for (const m of r.persisters) g.set({ member: m.member }, of(m, now));
    });
  perMember('devicelink_persister_partitions', 'Partitions each live persister holds.', (m) => m.partitions);
  perMember(
    'devicelink_persister_stalled',
    '1 when a persister owns partitions but completed no pass for its stall time (it cannot commit, or is frozen).',
    (m) => (m.stalled ? 1 : 0),
  );
  perMember(
    'devicelink_persister_last_pass_age_seconds',
    'Seconds since each persister last completed a pass (committed, or found its partitions empty).',
    (m, now) => (m.lastPassAt ? Math.max(0, now - Date.parse(m.lastPassAt)) / 1000 : -1),
  );
}
