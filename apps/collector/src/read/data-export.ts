/**
 * Exports (apps/collector/README.md, Dashboard and read API), as async generators of text the routes stream
 * with backpressure: the process holds one page of rows at a time whatever the size of the export.
 *
 * - Bulk: page views of `[from, to)` in (server time, event id) order, as NDJSON or CSV, every row
 *   carrying the cursor that resumes the export after it.
 * - Per user (a data-subject request): one JSON document with everything stored about the user: links,
 *   the devices linked by login, the sessions converted to the user with their page views, and the
 *   user's signed-in page views. Fingerprint joins and aliases are not followed (docs/protocol.md, Edges): a
 *   client can forge those, so they never widen what a request about one person returns. Every class of
 *   traffic is in it (it is what is stored about the person), each session and page view with its class.
 *
 * The bulk export holds human page views unless asked for all traffic (`?traffic=all`).
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import { type Cursor, encodeCursor } from './insight-query.js';
import { type TrafficScope, trafficFilter } from './traffic-scope.js';

/** Rows per database page of an export. */
const PAGE = 1_000;

/** A page view row as exported. */
interface ExportRow {
  event_id: string;
  server_ts: Date;
  client_ts: Date | null;
  device_id: string | null;
  user_id: string | null;
  session_id: string | null;
  url: string;
  referrer: string | null;
  traffic_class: string;
}

/** The columns of the CSV export, in order. */
const CSV_COLUMNS = [
  'eventId',
  'serverTs',
  'clientTs',
  'deviceId',
  'userId',
  'sessionId',
  'url',
  'referrer',
  'trafficClass',
  'cursor',
] as const;

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function record(r: ExportRow): Record<(typeof CSV_COLUMNS)[number], string | null> {
  const at = new Date(r.server_ts);
  return {
    eventId: r.event_id,
    serverTs: at.toISOString(),
    clientTs: iso(r.client_ts),
    deviceId: r.device_id,
    userId: r.user_id,
    sessionId: r.session_id,
    url: r.url,
    referrer: r.referrer,
    trafficClass: r.traffic_class,
    cursor: encodeCursor(at, r.event_id),
  };
}

/**
 * One CSV cell: RFC 4180 (quoted when it holds a comma, quote or line break; empty for null), and safe
 * to open in a spreadsheet as OWASP recommends for CSV injection: a cell starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return (a formula to Excel or LibreOffice: `=HYPERLINK(…)` in a user id or
 * a URL) gets a leading `'` and is quoted, so it is shown as text, never evaluated.
 *
 * @example
 * csvCell('=HYPERLINK("https://evil.test")'); // '"\'=HYPERLINK(""https://evil.test"")"'
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  if (/^[=+\-@\t\r]/.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Page views of `[from, to)` after `cursor`, one page at a time. */
async function* pageViewRows(
  db: Kysely<Database>,
  from: Date,
  to: Date,
  cursor: Cursor | null,
  scope: TrafficScope,
): AsyncGenerator<ExportRow[]> {
  let after = cursor;
  for (;;) {
    const rows = await sql<ExportRow>`
      select event_id, server_ts, client_ts, device_id, user_id, session_id, url, referrer, traffic_class
      from page_views
      where server_ts >= ${from} and server_ts < ${to} ${trafficFilter(scope)}
        ${after ? sql`and (server_ts, event_id) > (${after.at}, ${after.id}::uuid)` : sql``}
      order by server_ts, event_id
      limit ${PAGE}
    `.execute(db);
    if (rows.rows.length > 0) yield rows.rows;
    if (rows.rows.length < PAGE) return;
    const last = rows.rows.at(-1)!;
    after = { at: new Date(last.server_ts), id: last.event_id };
  }
}

/**
 * The bulk export as text chunks (one per page of rows): NDJSON (one JSON object a line) or CSV (a
 * header line, then rows).
 */
export async function* pageViewExport(
  db: Kysely<Database>,
  from: Date,
  to: Date,
  cursor: Cursor | null,
  format: 'ndjson' | 'csv',
  scope: TrafficScope = 'human',
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const rows of pageViewRows(db, from, to, cursor, scope)) {
    let chunk = '';
    for (const r of rows) {
      const rec = record(r);
      chunk +=
        format === 'csv'
          ? `${CSV_COLUMNS.map((c) => csvCell(rec[c])).join(',')}\r\n`
          : `${JSON.stringify(rec)}\n`;
    }
    yield chunk;
  }
}

/** Page views of the user's converted sessions, then the user's signed-in ones, in pages. */
async function* userPageViews(
  db: Kysely<Database>,
  where: ReturnType<typeof sql>,
): AsyncGenerator<ExportRow[]> {
  let after: Cursor | null = null;
  for (;;) {
    const rows: { rows: ExportRow[] } = await sql<ExportRow>`
      select pv.event_id, pv.server_ts, pv.client_ts, pv.device_id, pv.user_id, pv.session_id, pv.url, pv.referrer,
        pv.traffic_class
      from page_views as pv
      where ${where}
        ${after ? sql`and (pv.server_ts, pv.event_id) > (${after.at}, ${after.id}::uuid)` : sql``}
      order by pv.server_ts, pv.event_id
      limit ${PAGE}
    `.execute(db);
    if (rows.rows.length > 0) yield rows.rows;
    if (rows.rows.length < PAGE) return;
    const last = rows.rows.at(-1)!;
    after = { at: new Date(last.server_ts), id: last.event_id };
  }
}

async function* jsonArray(pages: AsyncGenerator<ExportRow[]>): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for await (const rows of pages) {
    const items = rows.map((r) => {
      const { cursor: _cursor, ...rest } = record(r);
      return JSON.stringify(rest);
    });
    yield (first ? '' : ',') + items.join(',');
    first = false;
  }
  yield ']';
}

/** Everything stored about `userId`, as the text of one JSON document. */
export async function* userExport(db: Kysely<Database>, userId: string): AsyncGenerator<string> {
  const [links, sessions] = await Promise.all([
    db.selectFrom('identity_links').selectAll().where('user_id', '=', userId).orderBy('linked_at').execute(),
    db
      .selectFrom('sessions')
      .selectAll()
      .where('converted_user_id', '=', userId)
      .orderBy('first_seen')
      .orderBy('id')
      .execute(),
  ]);
  const deviceIds = [...new Set(links.map((l) => l.device_id))].sort();
  const devices =
    deviceIds.length === 0
      ? []
      : await db
          .selectFrom('devices')
          .selectAll()
          .where('device_id', 'in', deviceIds)
          .orderBy('device_id')
          .execute();
  yield `{"userId":${JSON.stringify(userId)},"exportedAt":${JSON.stringify(new Date().toISOString())}`;
  yield `,"links":${JSON.stringify(
    links.map((l) => ({ id: l.id, deviceId: l.device_id, linkedAt: iso(l.linked_at) })),
  )}`;
  yield `,"devices":${JSON.stringify(
    devices.map((d) => ({ deviceId: d.device_id, firstSeen: iso(d.first_seen), lastSeen: iso(d.last_seen) })),
  )}`;
  yield `,"sessions":${JSON.stringify(
    sessions.map((s) => ({
      id: s.id,
      deviceId: s.device_id,
      source: s.source,
      firstSeen: iso(s.first_seen),
      lastSeen: iso(s.last_seen),
      pageViews: s.page_views,
      userAgent: s.user_agent,
      trafficClass: s.traffic_class,
      trafficReason: s.traffic_reason,
      convertedAt: iso(s.converted_at),
      linkId: s.link_id,
    })),
  )}`;
  yield ',"sessionPageViews":';
  yield* jsonArray(
    userPageViews(
      db,
      sql`pv.session_id in (select s.id from sessions as s where s.converted_user_id = ${userId})`,
    ),
  );
  yield ',"signedInPageViews":';
  yield* jsonArray(userPageViews(db, sql`pv.user_id = ${userId}`));
  yield '}';
}
