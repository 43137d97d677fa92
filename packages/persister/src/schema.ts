/**
 * The Postgres schema as kysely sees it. Postgres is the source for every report; the live Redis
 * count is a hint. Tables are created by the migrations in `migrations/`.
 */
import type { ColumnType, Insertable, Selectable } from 'kysely';

/** A timestamptz: written as a Date, read as a Date. */
type Timestamp = ColumnType<Date, Date, Date>;

/** Every device id the collector has persisted anything for. */
export interface DevicesTable {
  device_id: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

/** Anonymous sessions, one row per live session id, with its conversion once it happened. */
export interface SessionsTable {
  id: string;
  device_id: string;
  source: string;
  visitor_hash: string | null;
  first_seen: Timestamp;
  last_seen: Timestamp;
  page_views: number;
  user_agent: string | null;
  converted_user_id: string | null;
  converted_at: Timestamp | null;
  link_id: string | null;
  /** `human`, `bot`, `automation` or `fleet` (docs/protocol.md, Bots and automation); default `human`. */
  traffic_class: ColumnType<string, string | undefined, string>;
  /** Why the class is not `human` (`ua:curl/`, `sdk:webdriver`, `fleet:…`), or an allowlist entry. */
  traffic_reason: string | null;
  /** Keyed hash of the session's /24 (IPv4) or /64 (IPv6) under the day's salt; never the address. */
  network_hash: string | null;
}

/**
 * One row per accepted page view, unique by its subject (device, or user) and event id so it lands
 * once and another subject's id never touches it; partitioned by month of `id_time`
 * (`page-view-partitions.ts`).
 */
export interface PageViewsTable {
  event_id: string;
  /** Null for an authenticated user's event. */
  device_id: string | null;
  user_id: string | null;
  session_id: string | null;
  url: string;
  referrer: string | null;
  client_ts: Timestamp | null;
  server_ts: Timestamp;
  /** The partition key: the time in the event id (UUIDv7), else the epoch (`pageViewIdTime`). */
  id_time: Timestamp;
  /** The page view's traffic class (as its session's); default `human`. */
  traffic_class: ColumnType<string, string | undefined, string>;
  traffic_reason: string | null;
}

/** The append-only link log: device belongs to user from `linked_at` on. */
export interface IdentityLinksTable {
  id: string;
  device_id: string;
  user_id: string;
  linked_at: Timestamp;
  /** The live session the link ended (null: none, or written before the column existed). */
  session_id: string | null;
}

/**
 * Edges between two ids of one browser, as observed (docs/protocol.md, Edges): `cookie` (non-fresh
 * `device_id` met the cookie `other_id`), `yield` (fresh `other_id` yielded to the cookie `device_id`),
 * `join` (fingerprint join of the minted `device_id` to `other_id`; inferred and revocable).
 */
export interface DeviceEdgesTable {
  device_id: string;
  other_id: string;
  kind: 'cookie' | 'yield' | 'join';
  first_seen: Timestamp;
}

/**
 * A replacement: the browser's new id `device_id` took the cookie over from `other_id` (the previous
 * person's) after a reset, forget or re-grant. No conversion crosses it.
 */
export interface DeviceBoundariesTable {
  device_id: string;
  other_id: string;
  replaced_at: Timestamp;
}

/** Every fingerprint join to `device_id` made at or before `revoked_until` is revoked. */
export interface FingerprintRevocationsTable {
  device_id: string;
  revoked_until: Timestamp;
}

/** Consent withdrawn: edges naming `device_id` made at or before `withdrawn_at` are gone for good. */
export interface EdgeWithdrawalsTable {
  device_id: string;
  withdrawn_at: Timestamp;
}

/** A user erased in the last 30 days: queued links and page views for it are dropped. */
export interface ErasedUsersTable {
  user_id: string;
  erased_at: Timestamp;
}

/** A device erased in the last 30 days: its page views, links and edges written later are dropped. */
export interface ErasedDevicesTable {
  device_id: string;
  erased_at: Timestamp;
}

/** A queue entry Postgres refused on its own (a data error), acknowledged and kept here for inspection. */
export interface DeadLettersTable {
  partition: number;
  entry_id: string;
  /** The database error's message. */
  error: string;
  /** The raw queue record as JSON text. */
  record: string;
  failed_at: Timestamp;
}

/**
 * One hourly roll-up row: `n` of `metric` (with its `key`: a page, a referrer origin, a histogram bin's
 * lower bound, or '') in the UTC hour starting at `hour`, as written by `writer` (the queue partition
 * whose lock the writing transaction held; negative for retention and rebuilds). Sum over writers.
 */
export interface RollupHourlyTable {
  metric: string;
  /** The traffic class counted (readers of people's figures take `human` only). */
  traffic_class: ColumnType<string, string | undefined, string>;
  hour: Timestamp;
  key: string;
  writer: number;
  /** A bigint: pg returns it as a string. */
  n: ColumnType<string, number | bigint | string, number | bigint | string>;
}

/** What the roll-ups count for one session, so a change of the session is recounted as a difference. */
export interface SessionRollupsTable {
  session_id: string;
  device_id: string;
  converted_user_id: string | null;
  first_seen: Timestamp;
  converted_at: Timestamp | null;
  page_views: number;
  entry_page: string;
  entry_referrer: string;
  /** Page views of the session at or before its conversion; null while unconverted. */
  views_before_conversion: number | null;
  /** The session's traffic class as counted. */
  traffic_class: ColumnType<string, string | undefined, string>;
}

/** Whether the rows stored before the roll-ups existed still have to be counted (one row, id 1). */
export interface RollupStateTable {
  id: number;
  rebuild_needed: boolean;
  /** The end of the hours the folding job has seen (`rollup-folding.ts`); null: none yet. */
  folded_before: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/**
 * A name a folded roll-up hour keeps (`rollup-folding.ts`): its `(other)` row marks the hour folded, and
 * a key of that metric, class and hour without a row here is counted under `(other)`.
 */
export interface RollupKeptTable {
  metric: string;
  traffic_class: string;
  hour: Timestamp;
  key: string;
}

/**
 * The number of `devices` rows, in shards: the count is the sum. Kept by triggers on `devices` in the
 * transaction that inserts or deletes (migration 2026-12-01T05); never written by code.
 */
export interface DeviceCountTable {
  shard: number;
  n: ColumnType<string, never, never>;
}

/** An export or erasure: which token kind did what to whom, and when. */
export interface AuditLogTable {
  id: ColumnType<string, never, never>;
  at: Timestamp;
  /** The token kind: `admin` or `dashboard`. */
  actor: string;
  action: string;
  subject: string | null;
  /** JSON text with the action's parameters. */
  detail: string | null;
}

/** The kysely database type of the devicelink schema. */
export interface Database {
  devices: DevicesTable;
  sessions: SessionsTable;
  page_views: PageViewsTable;
  identity_links: IdentityLinksTable;
  device_edges: DeviceEdgesTable;
  device_boundaries: DeviceBoundariesTable;
  fingerprint_revocations: FingerprintRevocationsTable;
  edge_withdrawals: EdgeWithdrawalsTable;
  erased_users: ErasedUsersTable;
  erased_devices: ErasedDevicesTable;
  dead_letters: DeadLettersTable;
  rollup_hourly: RollupHourlyTable;
  session_rollups: SessionRollupsTable;
  rollup_state: RollupStateTable;
  rollup_kept: RollupKeptTable;
  audit_log: AuditLogTable;
  device_count: DeviceCountTable;
}

export type Device = Selectable<DevicesTable>;
export type NewDevice = Insertable<DevicesTable>;
export type Session = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type PageView = Selectable<PageViewsTable>;
export type NewPageView = Insertable<PageViewsTable>;
export type IdentityLink = Selectable<IdentityLinksTable>;
export type NewIdentityLink = Insertable<IdentityLinksTable>;
export type DeviceEdge = Selectable<DeviceEdgesTable>;
export type NewDeviceEdge = Insertable<DeviceEdgesTable>;
