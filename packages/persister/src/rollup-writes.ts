/**
 * Roll-up maintenance: the persister's transaction calls these as it writes, so the hourly
 * roll-ups always equal a recount of the rows they count.
 *
 * - Page views are counted when inserted and subtracted when deleted (`delete … returning` feeds the
 *   subtraction in the same statement, so exactly the rows removed are uncounted).
 * - Sessions change after they are written (more page views, an earlier one arriving late, a conversion
 *   or its correction, an erasure): `session_rollups` keeps what is counted for each session, and a
 *   session whose row differs from it is recounted as (new contribution - old contribution).
 *
 * Every delta goes to rows keyed by `writer`: the queue partition whose advisory lock the transaction
 * holds (a persister pass: its lowest partition), so two persisters never update the same roll-up row.
 *
 * Known limit: a user erasure (written under the user's partition) that deletes a session while another
 * persister's uncommitted pass recounts that same session (under the device's partition) can leave the
 * session counted until the device's next write recounts it; one persister, or no such overlap, is exact.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { slices } from './insert-slices.js';
import {
  type Contribution,
  keptJoinsSql,
  mappedKeySql,
  pageKeySql,
  referrerKeySql,
  type SessionRollupState,
  sessionContributions,
} from './rollup-metrics.js';
import type { Database } from './schema.js';

/** Ids per statement, well below Postgres's 65,535 parameters. */
const IDS_PER_STATEMENT = 5_000;
/** Roll-up rows per upsert (5 parameters each). */
const ROWS_PER_UPSERT = 2_000;

/** What the roll-ups count of an inserted page view. */
export interface InsertedPageView {
  serverTs: Date;
  userId: string | null;
  url: string;
  referrer: string | null;
  trafficClass: string;
}

/** The roll-up state of sessions as they are now, for `where` over `sessions as s`. */
export function sessionStateSelect(
  where: RawBuilder<unknown>,
  tail: RawBuilder<unknown> = sql``,
): RawBuilder<unknown> {
  const page = pageKeySql(sql`pv.url`);
  const referrer = referrerKeySql(sql`pv.referrer`);
  return sql`
    select s.id as session_id, s.device_id, s.converted_user_id, s.first_seen, s.converted_at, s.page_views,
      s.traffic_class, coalesce(e.page, '') as entry_page, coalesce(e.referrer, '') as entry_referrer,
      case when s.converted_user_id is null then null else (
        select count(*)::int from page_views as pv where pv.session_id = s.id and pv.server_ts <= s.converted_at
      ) end as views_before_conversion
    from sessions as s
    left join lateral (
      select ${page} as page, ${referrer} as referrer
      from page_views as pv
      where pv.session_id = s.id
      -- Page views sent in one batch share a server time: the client's clock orders them.
      order by pv.server_ts, pv.client_ts nulls last, pv.event_id
      limit 1
    ) as e on true
    where ${where}
    ${tail}`;
}

/**
 * The page-view roll-up counts of `source` (a relation with server_ts, user_id, url, referrer,
 * traffic_class), times `sign`.
 */
export function pageViewCounts(source: RawBuilder<unknown>, sign: 1 | -1 = 1): RawBuilder<unknown> {
  return sql`
    select m.metric, src.traffic_class, date_trunc('hour', src.server_ts, 'UTC') as hour, m.key,
      ${sql.lit(sign)} * count(*) as n
    from ${source} as src
    cross join lateral (values
      (case when src.user_id is null then 'pv_anon' else 'pv_user' end, ''),
      ('page', ${pageKeySql(sql`src.url`)}),
      ('referrer', ${referrerKeySql(sql`src.referrer`)})
    ) as m(metric, key)
    group by 1, 2, 3, 4`;
}

/**
 * Adds the counts of `counts` (a relation with metric, traffic_class, hour, key and n) to `writer`'s
 * rows, each key of a folded hour that does not keep it going to `(other)` (`rollup-folding.ts`).
 */
function mappedUpsert(counts: RawBuilder<unknown>, writer: number): RawBuilder<unknown> {
  const c = sql.raw('c');
  return sql`
    insert into rollup_hourly (metric, traffic_class, hour, key, writer, n)
    select c.metric, c.traffic_class, c.hour, ${mappedKeySql(c)} as mapped, ${sql.lit(writer)}, sum(c.n)
    from ${counts} as c
    ${keptJoinsSql(c)}
    group by c.metric, c.traffic_class, c.hour, mapped
    order by c.metric, c.traffic_class, c.hour, mapped
    on conflict (metric, traffic_class, hour, key, writer) do update set n = rollup_hourly.n + excluded.n`;
}

function pageViewUpsert(source: RawBuilder<unknown>, writer: number, sign: 1 | -1): RawBuilder<unknown> {
  return mappedUpsert(sql`(${pageViewCounts(source, sign)})`, writer);
}

/**
 * The roll-up side of one transaction. Create one per transaction with the writer key it may use.
 *
 * @example
 * const rollups = new RollupWriter(trx, partition);
 * await rollups.pageViewsInserted(insertedRows);
 * await rollups.reconcileDevices(touchedDevices);
 */
export class RollupWriter {
  constructor(
    readonly db: Kysely<Database>,
    readonly writer: number,
  ) {}

  /**
   * Counts page views just inserted: the rows the insert returned (what it skipped as already stored is
   * not among them).
   */
  async pageViewsInserted(rows: readonly InsertedPageView[]): Promise<void> {
    // 5 parameters a row.
    for (const slice of slices(rows, IDS_PER_STATEMENT / 5)) {
      const values = sql.join(
        slice.map(
          (r) =>
            sql`(${r.serverTs}::timestamptz, ${r.userId}::text, ${r.url}::text, ${r.referrer}::text, ${r.trafficClass}::text)`,
        ),
      );
      await pageViewUpsert(
        sql`(select * from (values ${values}) as v(server_ts, user_id, url, referrer, traffic_class))`,
        this.writer,
        1,
      ).execute(this.db);
    }
  }

  /**
   * Deletes the page views matching `where` (over `page_views`, or over one of its partitions given as
   * `table`) and uncounts exactly those; resolves with how many went.
   */
  async deletePageViews(
    where: RawBuilder<unknown>,
    table: RawBuilder<unknown> = sql`page_views`,
  ): Promise<number> {
    const result = await sql<{ n: number }>`
      with src as (delete from ${table} where ${where} returning server_ts, user_id, url, referrer, traffic_class),
      counted as (${pageViewUpsert(sql`src`, this.writer, -1)})
      select count(*)::int as n from src`.execute(this.db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * Uncounts the page views of `table` matching `where` (default: all; a partition about to be
   * dropped) in one aggregate pass; resolves with how many rows matched.
   */
  async uncountPageViewsOf(
    table: RawBuilder<unknown>,
    where: RawBuilder<unknown> = sql`true`,
  ): Promise<number> {
    const result = await sql<{ n: number }>`
      with counted as (${pageViewUpsert(sql`(select server_ts, user_id, url, referrer, traffic_class from ${table} where ${where})`, this.writer, -1)})
      select count(*)::int as n from ${table} where ${where}`.execute(this.db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * Gives the page views of `sessionIds` their session's traffic class (a session marked by a later page
   * view, by the fleet job or by a reclassification), moving their roll-up counts from the old class to
   * the new one; resolves with how many changed.
   */
  async followSessionClass(sessionIds: readonly string[]): Promise<number> {
    let changed = 0;
    for (const ids of slices([...sessionIds].sort(), IDS_PER_STATEMENT)) {
      const list = sql.join(ids);
      await pageViewUpsert(
        sql`(select pv.server_ts, pv.user_id, pv.url, pv.referrer, pv.traffic_class
          from page_views as pv join sessions as s on s.id = pv.session_id
          where s.id in (${list}) and pv.traffic_class <> s.traffic_class)`,
        this.writer,
        -1,
      ).execute(this.db);
      const result = await sql<{ n: number }>`
        with src as (
          update page_views as pv set traffic_class = s.traffic_class, traffic_reason = s.traffic_reason
          from sessions as s
          where s.id = pv.session_id and s.id in (${list}) and pv.traffic_class <> s.traffic_class
          returning pv.server_ts, pv.user_id, pv.url, pv.referrer, pv.traffic_class
        ),
        counted as (${pageViewUpsert(sql`src`, this.writer, 1)})
        select count(*)::int as n from src`.execute(this.db);
      changed += Number(result.rows[0]?.n ?? 0);
    }
    return changed;
  }

  /**
   * Recounts the sessions of `deviceIds` that changed since they were counted (or were removed), after
   * the transaction wrote them and applied the conversion rule.
   */
  async reconcileDevices(deviceIds: readonly string[]): Promise<void> {
    for (const ids of slices([...deviceIds].sort(), IDS_PER_STATEMENT)) {
      const list = sql.join(ids);
      const dirty = await sql<{ id: string }>`
        select s.id from sessions as s
        left join session_rollups as r on r.session_id = s.id
        where s.device_id in (${list})
          and (r.session_id is null or r.first_seen <> s.first_seen or r.page_views <> s.page_views
            or r.converted_at is distinct from s.converted_at
            or r.converted_user_id is distinct from s.converted_user_id
            or r.traffic_class <> s.traffic_class)
        union
        select r.session_id from session_rollups as r
        where r.device_id in (${list}) and not exists (select 1 from sessions as s where s.id = r.session_id)
      `.execute(this.db);
      await this.recount(dirty.rows.map((r) => r.id));
    }
  }

  /** Uncounts the sessions counted as converted to `userId` that no longer exist (a user erasure). */
  async reconcileUser(userId: string): Promise<void> {
    const gone = await sql<{ id: string }>`
      select r.session_id as id from session_rollups as r
      where r.converted_user_id = ${userId} and not exists (select 1 from sessions as s where s.id = r.session_id)
    `.execute(this.db);
    await this.recount(gone.rows.map((r) => r.id));
  }

  /** Recounts `sessionIds`: removes what is counted for them and counts them as they are now. */
  async recount(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const deltas = new ContributionCounts();
    const add = (s: SessionRollupState, n: 1 | -1) => deltas.add(sessionContributions(s), n);
    for (const ids of slices([...sessionIds].sort(), IDS_PER_STATEMENT)) {
      const list = sql.join(ids);
      const old = await this.db
        .deleteFrom('session_rollups')
        .where('session_id', 'in', ids)
        .returningAll()
        .execute();
      for (const s of old) add(s, -1);
      const now = await sql<SessionRollupState>`
        insert into session_rollups (session_id, device_id, converted_user_id, first_seen, converted_at,
          page_views, traffic_class, entry_page, entry_referrer, views_before_conversion)
        ${sessionStateSelect(sql`s.id in (${list})`)}
        returning *`.execute(this.db);
      for (const s of now.rows) add(s, 1);
    }
    await this.addCounts(deltas.rows());
  }

  /** Adds `n` to each contribution's row of this writer. */
  async addCounts(rows: readonly { c: Contribution; n: number }[]): Promise<void> {
    // Sorted, so concurrent transactions (of other writers, on other rows) never interleave lock order.
    const sorted = [...rows].sort((a, b) => (keyOf(a.c) < keyOf(b.c) ? -1 : 1));
    for (const slice of slices(sorted, ROWS_PER_UPSERT)) {
      const values = sql.join(
        slice.map(
          ({ c, n }) =>
            sql`(${c[0]}::text, ${c[3]}::text, ${new Date(c[1])}::timestamptz, ${c[2]}::text, ${n}::bigint)`,
        ),
      );
      await mappedUpsert(
        sql`(select * from (values ${values}) as v(metric, traffic_class, hour, key, n))`,
        this.writer,
      ).execute(this.db);
    }
  }
}

const keyOf = (c: Contribution) => `${c[0]}\u0000${c[3]}\u0000${String(c[1]).padStart(16, '0')}\u0000${c[2]}`;

/** Counts per contribution, summed in memory before one upsert. */
export class ContributionCounts {
  readonly #counts = new Map<string, { c: Contribution; n: number }>();

  add(contributions: readonly Contribution[], n: number): void {
    for (const c of contributions) {
      const k = keyOf(c);
      const d = this.#counts.get(k);
      if (d) d.n += n;
      else this.#counts.set(k, { c, n });
    }
  }

  /** The non-zero counts. */
  rows(): { c: Contribution; n: number }[] {
    return [...this.#counts.values()].filter((d) => d.n !== 0);
  }
}
