/**
 * The pipeline as a property (issue 22, Build 8): requests the routes accept, carrying strings that have
 * broken a layer before (lone surrogates, NUL, U+FFFD, tag and bidi characters, 4-byte characters at
 * each length limit), go through the real collector (`app.inject` on `buildApp`, on Redis) and the real
 * persister (on a fresh Postgres database). Every record the routes queued must then be in Postgres
 * exactly once; a dead letter, a persister error or an answer of 500 fails the test (a 503, the store
 * slower than its deadline on a loaded machine, is retried like the SDK does, and may stay for at most
 * 1% of a route's requests).
 *
 * A property run is a batch of simulated clients (a browser, a signed-in user, an admin) sent
 * concurrently; the queue is then read as it stands (XRANGE: what the routes accepted, record by
 * record), one persister drains it (one pass, usually), and each queued record is looked up by what it
 * must have left in Postgres. Answers are checked against the queue too (a 202's page views, a 200's
 * link, a 204's erasure are queued). Fast-check does not shrink a failing batch (each try would need a
 * persister pass, and a record that stops the persister fails every later try): the failure names the
 * records that were not written and the seed to replay it.
 *
 * Free text is kept, normalised (docs/protocol.md, HTTP API): URLs, referrers, user agents and `utm_*`
 * values over their limits or ill-formed are generated too, and what the queue and Postgres hold of them
 * is checked: well-formed, within its limit, its own kept form, and exactly the sent value's kept form
 * when that needed no cut.
 *
 * Headers are sent as Node's HTTP parser hands them to a route: `inject` passes any string through, a
 * real socket gives one Latin-1 character per byte and refuses control characters, so a generated header
 * value is sent as its UTF-8 bytes read as Latin-1, and one Node would refuse is left out.
 */
import { createRedisStore } from '@devicelink/fastify';
import { createDb, createPersister, type Persister, type PersisterDb } from '@devicelink/persister';
import { referrerOrigin, sanitizeUrl } from '@devicelink/protocol';
import { hasServices, openServices, type TestServices, testEnv } from '@devicelink/test-env';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, collector } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

/** A body `inject` sends: an object as JSON, a string as it is. */
type InjectPayload = string | Record<string, unknown> | undefined;

const JWT_SECRET = 'a-property-test-secret-long-enough-0123';
const PARTITIONS = 8;
/** Requests per route, at least (issue 22: 1,000 runs per route). */
const RUNS = 1_000;
/** Clients per property run: one persister drain per batch. */
const BATCH = 200;
/** Requests in flight at once. */
const CONCURRENCY = 32;
/** A batch's drain may take this long before the test says the persister is stuck. */
const DRAIN_DEADLINE_MS = 30_000;
/** Fast-check's seed: `PBT_SEED` replays a failure (its message gives the seed). */
const SEED = testEnv.propertySeed ?? Date.now() ^ (Math.random() * 0x7fffffff);

const MAX_URL = 2_048;
const MAX_USER_AGENT = 512;
const MAX_UTM_VALUE = 256;
const MAX_SUB = 256;
const MAX_VISITOR_ID = 128;

// ---------------------------------------------------------------------------------------------------
// Arbitraries

const FOUR_BYTE = ['\u{1f600}', '\u{10ffff}', '\u{20000}', '\u{1f468}\u200d\u{1f469}', '\u{e0041}'];
/** Characters that broke, or could break, a layer between the edge and Postgres. */
const NASTY = [
  '\u0000',
  '\ufffd',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u202e',
  '\u202a',
  '\u2066',
  '\u2069',
  '\u200e',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u007f',
  '\u001b',
  '\u{e0001}',
  '\u{e0020}',
  '\u{e007f}',
  ...FOUR_BYTE,
  '%',
  '%00',
  '%ff',
  '%ED%A0%80',
  '#',
  '?',
  '&',
  '=',
  '+',
  '/',
  '\\',
  '..',
  ' ',
  '\t',
  '\n',
  '\r',
  '"',
  "'",
  '<',
  '>',
  'é',
  'ß',
  'İ',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const unit = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'z', '0', '9', '-', '_', '.'), weight: 4 },
  { arbitrary: fc.constantFrom(...NASTY), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 2 },
  { arbitrary: loneSurrogate, weight: 1 },
);
/** Text of `min` to `max` generated units (a unit is one to three code units). */
const text = (min: number, max: number) => fc.string({ unit, minLength: min, maxLength: max });
/** `length` code units of filler: plain, or nasty. */
const filler = (length: number) =>
  fc.oneof(
    fc.constant('a'.repeat(length)),
    text(length, length).map((t) => (t + 'a'.repeat(length)).slice(0, length)),
  );

/**
 * `head`, filled up to a 4-byte character that ends exactly at `limit` code units, one before, or one
 * over (so it straddles the limit).
 */
const atLimit = (head: string, limit: number, tail = '') =>
  fc
    .tuple(fc.constantFrom(-1, 0, 1), fc.constantFrom(...FOUR_BYTE.filter((c) => c.length === 2)))
    .chain(([delta, four]) => {
      const room = Math.max(0, limit - head.length - tail.length - 2 + delta);
      return filler(room).map((fill) => `${head}${fill}${four}${tail}`);
    });

const ORIGINS = [
  'https://shop.test',
  'http://shop.test:8080',
  'HTTPS://SHOP.TEST',
  'https://bücher.test',
  'https://xn--bcher-kva.test',
  'https://例え.テスト',
  'https://user:pw@shop.test',
  'https://[::1]',
  'https://127.0.0.1',
];
const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];

/** Percent-encodes what can be (a lone surrogate cannot: it is sent raw). */
function maybeEncode(value: string, encode: boolean): string {
  if (!encode) return value;
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

const origin = fc.oneof(
  { arbitrary: fc.constantFrom(...ORIGINS), weight: 6 },
  { arbitrary: fc.constant(''), weight: 3 },
  { arbitrary: text(1, 12).map((h) => `https://${h}`), weight: 1 },
);
const query = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom(...UTM, 'q', 'x'), text(0, 24), fc.boolean()), { maxLength: 6 }))
  .map(([pairs]) =>
    pairs.length === 0 ? '' : `?${pairs.map(([k, v, e]) => `${k}=${maybeEncode(v, e)}`).join('&')}`,
  );
const fragment = fc.option(text(0, 16), { nil: undefined }).map((f) => (f === undefined ? '' : `#${f}`));

/** A page URL as a client may send it: mostly accepted, now and then one the route refuses. */
const pageUrl = fc.oneof(
  {
    arbitrary: fc.tuple(origin, text(0, 40), query, fragment).map(([o, p, q, f]) => `${o}/${p}${q}${f}`),
    weight: 6,
  },
  // The URL at its limit, with the 4-byte character in the path or in a utm_* value.
  { arbitrary: fc.constantFrom(...ORIGINS, '').chain((o) => atLimit(`${o}/`, MAX_URL)), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...ORIGINS, ''), fc.constantFrom(...UTM))
      .chain(([o, k]) => atLimit(`${o}/landing?${k}=`, MAX_URL)),
    weight: 1,
  },
  // Over the limits, kept and cut: the URL (in its path, or in its query), a utm_* value.
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...ORIGINS, ''), fc.integer({ min: 1, max: 3 * MAX_URL }), query)
      .chain(([o, n, q]) => atLimit(`${o}/`, MAX_URL + n, q)),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...ORIGINS, ''), fc.constantFrom(...UTM), fc.integer({ min: -2, max: 600 }))
      .chain(([o, k, n]) => atLimit(`${o}/?${k}=`, `${o}/?${k}=`.length + MAX_UTM_VALUE + n)),
    weight: 1,
  },
  { arbitrary: fc.constantFrom('javascript:alert(1)', 'data:,x', '', '//evil.test/x'), weight: 1 },
);
const referrer = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: pageUrl, weight: 3 },
  { arbitrary: fc.constantFrom(...ORIGINS).chain((o) => atLimit(`${o}/from/`, MAX_URL)), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...ORIGINS), fc.integer({ min: 1, max: 2 * MAX_URL }))
      .chain(([o, n]) => atLimit(`${o}/from/`, MAX_URL + n)),
    weight: 1,
  },
);

/** A header value as Node's parser hands it over: UTF-8 bytes as Latin-1, or left out if refused. */
function asHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const latin1 = Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/^[ \t]+|[ \t]+$/g, '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: what llhttp refuses in a header value.
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(latin1) ? undefined : latin1;
}
const userAgent = fc
  .oneof(
    {
      arbitrary: fc.constant(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      ),
      weight: 3,
    },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: text(1, 60), weight: 3 },
    // The UTF-8 bytes of a 4-byte character across the 512-character cut, and at its end.
    {
      arbitrary: fc
        .tuple(fc.integer({ min: -4, max: 1 }), fc.constantFrom(...FOUR_BYTE))
        .map(([d, c]) => `${'Mozilla/5.0 '.padEnd(MAX_USER_AGENT + d, 'a')}${c} tail`),
      weight: 1,
    },
    { arbitrary: atLimit('Mozilla/5.0 ', MAX_USER_AGENT), weight: 1 },
    // Over the limit: cut at 512 (past 1,024 it is a bot's too).
    {
      arbitrary: fc.integer({ min: 1, max: 1_500 }).chain((n) => atLimit('Mozilla/5.0 ', MAX_USER_AGENT + n)),
      weight: 1,
    },
  )
  .map(asHeader);

const uuid = fc.oneof(
  { arbitrary: fc.uuid({ version: 7 }), weight: 4 },
  { arbitrary: fc.uuid(), weight: 1 },
  { arbitrary: fc.uuid({ version: 4 }).map((u) => u.toUpperCase()), weight: 1 },
);
const event = fc.record(
  {
    type: fc.constant('pageview'),
    url: pageUrl,
    referrer,
    id: fc.option(uuid, { nil: undefined, freq: 6 }),
    ts: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 47 }), fc.constant(8.64e15)), { nil: undefined }),
  },
  { requiredKeys: ['type', 'url'] },
);
const events = fc.array(event, { minLength: 1, maxLength: 3 });

const ID_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'];
/** A device id the rules allow, 16 to 64 characters (the limits twice as often). */
const deviceIdShape = fc
  .oneof(fc.constant(16), fc.constant(64), fc.integer({ min: 16, max: 64 }))
  .chain((n) => fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: n, maxLength: n }));
/** Ids the rules refuse (so the request counts as without one). */
const badDeviceId = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 15, maxLength: 15 }),
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 65, maxLength: 65 }),
  fc.constantFrom('null', 'undefined', '[object Object]', 'a'.repeat(32), 'dev.ice.id.0000000000'),
  text(16, 40).map(asHeader),
);

let seq = 0;
const nonce = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
/**
 * A generated device id made unique to this execution (its first 12 characters, from the same
 * alphabet): the dedupe and tombstones of the store outlive a run, and batches must not meet.
 */
const unique = (shape: string): string =>
  `${(seq++).toString(36).padStart(8, '0')}${nonce}${shape.slice(12)}`;

/** A JWT `sub`: any text, well-formed or not, at its 256-unit limit too. */
const sub = fc.oneof(
  { arbitrary: text(1, 40), weight: 4 },
  {
    arbitrary: fc.constantFrom(
      'x\ud800',
      'user\u0000nul',
      'a\u202egnp.exe',
      'u\u061c',
      'tag\u{e0041}',
      'u\ufffd',
    ),
    weight: 1,
  },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), weight: 2 },
  { arbitrary: fc.constantFrom('user-', '\u{1f600}').chain((h) => atLimit(h, MAX_SUB)), weight: 2 },
);
const visitorId = fc.oneof(text(1, 40), atLimit('fp-', MAX_VISITOR_ID));

// ---------------------------------------------------------------------------------------------------
// The collector, the persister and what the queue held

/** A record as it stood in a stream: the JSON of `r` plus the server time `t` and session `s`. */
interface Queued {
  kind: string;
  partition: number;
  entryId: string;
  deviceId?: string;
  userId?: string;
  otherId?: string;
  edge?: string;
  eventId?: string;
  sessionId?: string;
  url?: string;
  referrer?: string;
  ts: number;
}

/** What `beforeAll` opens: the services, the collector, a Redis client, the persister and its database. */
interface Opened {
  services: TestServices;
  client: pg.Client;
  app: FastifyInstance;
  redis: Redis;
  db: PersisterDb;
  persister: Persister;
}
let opened: Opened | null = null;
const ctx = (): Opened => {
  if (!opened) throw new Error('the collector and the persister are opened in beforeAll');
  return opened;
};
const persisterErrors: Array<{ context: string; message: string }> = [];
/** Requests sent per route, and records written per kind, over the whole file. */
const routeCounts = new Map<string, number>();
/** The 503 answers of each route (body and request). */
const unavailable = new Map<string, string[]>();
/** Share of a route's requests that may be answered 503 (the store slower than its deadline). */
const MAX_UNAVAILABLE = 0.01;
const kindCounts = new Map<string, number>();
/** Erasures and withdrawals already written (their tombstones outlive a batch). */
const erasedDevices = new Set<string>();
const erasedUsers = new Set<string>();

const app = (): FastifyInstance => ctx().app;
const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
  (await ctx().client.query(text, params)).rows as T[];

/** Every entry of every partition's stream, as the persister will read it. */
async function snapshot(): Promise<Queued[]> {
  const out: Queued[] = [];
  const { services, redis } = ctx();
  for (let p = 0; p < PARTITIONS; p++) {
    const entries = await redis.xrange(`${services.prefix}{p${p}}:q`, '-', '+');
    for (const [entryId, fields] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
      const r = JSON.parse(f.get('r') ?? '{}') as Record<string, unknown>;
      const t = f.has('t') ? Number(f.get('t')) : Number(r.serverTs ?? r.ts);
      out.push({
        ...(r as object),
        kind: r.kind as string,
        partition: p,
        entryId,
        ts: t,
        sessionId: f.get('s') ?? (r.sessionId as string),
      });
    }
  }
  return out;
}

async function depth(): Promise<number> {
  const { services, redis } = ctx();
  let n = 0;
  for (let p = 0; p < PARTITIONS; p++) n += await redis.xlen(`${services.prefix}{p${p}}:q`);
  return n;
}

/** Persister passes until the queue is empty; returns the passes. Throws past the deadline. */
async function drain(): Promise<number> {
  const deadline = Date.now() + DRAIN_DEADLINE_MS;
  const stuck = async () =>
    new Error(
      `the persister did not empty the queue within ${DRAIN_DEADLINE_MS} ms (${await depth()} entries left); ` +
        `its errors: ${describeErrors()}`,
    );
  let passes = 0;
  while ((await depth()) > 0) {
    if (Date.now() > deadline) throw await stuck();
    passes++;
    // A pass that keeps failing retries inside runOnce until it gives its partitions up: not waited for
    // past the deadline.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()));
    });
    try {
      const done = await Promise.race([ctx().persister.runOnce(), late]);
      if (done === 'late') throw await stuck();
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('the persister did not empty')) throw err;
      persisterErrors.push({ context: 'runOnce', message: String((err as Error)?.message ?? err) });
    } finally {
      clearTimeout(timer);
    }
  }
  return passes;
}

function describeErrors(): string {
  if (persisterErrors.length === 0) return 'none';
  const distinct = [...new Set(persisterErrors.map((e) => `${e.context}: ${e.message}`))];
  return `${persisterErrors.length} (${distinct
    .slice(0, 3)
    .map((e) => e.slice(0, 300))
    .join(' | ')})`;
}

/** A value as a failure message shows it: escaped (lone surrogates and NUL visible), cut. */
const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
};

interface Sent {
  route: string;
  request: Record<string, unknown>;
  response: LightMyRequestResponse;
}

/** What a client sent and got, kept for the checks after the drain. */
async function send(
  route: string,
  sent: Sent[],
  request: {
    method: 'POST' | 'DELETE';
    url: string;
    headers?: Record<string, string | undefined>;
    payload?: unknown;
  },
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers ?? {})) if (v !== undefined) headers[k] = v;
  if (!('user-agent' in headers)) headers['user-agent'] = 'Mozilla/5.0 (property test) Firefox/128.0';
  let response = await app().inject({ ...request, headers, payload: request.payload as InjectPayload });
  // A 503 is retried with the same request (the SDK retries with the same event ids), twice.
  for (let retry = 0; retry < 2 && response.statusCode === 503; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    response = await app().inject({ ...request, headers, payload: request.payload as InjectPayload });
  }
  sent.push({ route, request, response });
  answered(route, response, request);
  return response;
}

/**
 * Counts an answer of `route`. A 500 (or any 5xx but 503) fails at once. A 503 says the store did not
 * answer in time (ingest waits 500 ms for Redis; a loaded machine can exceed it): nothing was accepted.
 * Retried twice first; the file allows a few left (see the last test), since a bug answered 503 would
 * answer so to every retry, and to many requests.
 */
function answered(route: string, response: LightMyRequestResponse, request: unknown): void {
  routeCounts.set(route, (routeCounts.get(route) ?? 0) + 1);
  if (response.statusCode === 503) {
    unavailable.set(route, [...(unavailable.get(route) ?? []), `${response.body} to ${show(request)}`]);
  } else if (response.statusCode >= 500) {
    throw new Error(`${route} answered ${response.statusCode} ${response.body} to ${show(request)}`);
  }
}

/**
 * Runs `fns` with at most CONCURRENCY at once. After a failure nothing new starts, and what is in flight
 * ends before the failure is thrown (a request still running would queue records behind the checks).
 */
async function pool(fns: Array<() => Promise<void>>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, fns.length) }, async () => {
      while (next < fns.length && !failure) {
        try {
          await fns[next++]!();
        } catch (err) {
          failure ??= { err };
        }
      }
    }),
  );
  if (failure) throw (failure as { err: unknown }).err;
}

// ---------------------------------------------------------------------------------------------------
// What a queued record must have left in Postgres

const wellFormed = (s: string): string => s.toWellFormed();

interface Oracle {
  gone: (deviceId?: string) => boolean;
  userGone: (userId?: string) => boolean;
  /** Latest withdrawal of each device in the batch, ms. */
  withdrawn: Map<string, number>;
}

/**
 * What each kind of record must leave in Postgres: `rows` counts it (from the record's columns `x.…`),
 * `want` says how many (none for an erased subject: erasure removes everything and keeps out the rest).
 */
const LOOKUPS: Array<{
  kind: string;
  what: string;
  when?: (r: Queued) => boolean;
  columns: Array<[name: string, type: string]>;
  values: (r: Queued, at: (r: Queued) => string) => unknown[];
  rows: string;
  want: (r: Queued, o: Oracle) => number;
}> = [
  {
    kind: 'pageview',
    what: "the device's page view",
    when: (r) => r.deviceId !== undefined,
    columns: [
      ['d', 'text'],
      ['e', 'uuid'],
      ['url', 'text'],
      ['r', 'text'],
    ],
    values: (r) => [r.deviceId, r.eventId, r.url, r.referrer ?? null],
    rows: `select 1 from page_views where device_id = x.d and user_id is null and event_id = x.e
      and url = x.url and referrer is not distinct from x.r`,
    want: (r, o) => (o.gone(r.deviceId) ? 0 : 1),
  },
  {
    kind: 'pageview',
    what: "the user's page view",
    when: (r) => r.deviceId === undefined,
    columns: [
      ['u', 'text'],
      ['e', 'uuid'],
      ['url', 'text'],
      ['r', 'text'],
    ],
    values: (r) => [r.userId, r.eventId, r.url, r.referrer ?? null],
    rows: `select 1 from page_views where user_id = x.u and device_id is null and event_id = x.e
      and url = x.url and referrer is not distinct from x.r`,
    want: (r, o) => (o.userGone(r.userId) ? 0 : 1),
  },
  {
    kind: 'link',
    what: 'identity_links',
    columns: [
      ['d', 'text'],
      ['u', 'text'],
      ['t', 'timestamptz'],
    ],
    values: (r, at) => [r.deviceId, r.userId, at(r)],
    rows: 'select 1 from identity_links where device_id = x.d and user_id = x.u and linked_at = x.t',
    want: (r, o) => (o.gone(r.deviceId) || o.userGone(r.userId) ? 0 : 1),
  },
  {
    kind: 'edge',
    what: 'device_edges',
    columns: [
      ['d', 'text'],
      ['o', 'text'],
      ['k', 'text'],
    ],
    values: (r) => [r.deviceId, r.otherId, r.edge],
    rows: 'select 1 from device_edges where device_id = x.d and other_id = x.o and kind = x.k',
    want: (r, o) => {
      const w = Math.max(o.withdrawn.get(r.deviceId ?? '') ?? -1, o.withdrawn.get(r.otherId ?? '') ?? -1);
      return o.gone(r.deviceId) || o.gone(r.otherId) || w >= r.ts || r.deviceId === r.otherId ? 0 : 1;
    },
  },
  {
    kind: 'boundary',
    what: 'device_boundaries',
    columns: [
      ['d', 'text'],
      ['o', 'text'],
    ],
    values: (r) => [r.deviceId, r.otherId],
    rows: 'select 1 from device_boundaries where device_id = x.d and other_id = x.o',
    want: (r, o) => (o.gone(r.deviceId) || o.gone(r.otherId) ? 0 : 1),
  },
  {
    kind: 'unjoin',
    what: 'fingerprint_revocations',
    columns: [
      ['d', 'text'],
      ['t', 'timestamptz'],
    ],
    values: (r, at) => [r.deviceId, at(r)],
    rows: 'select 1 from fingerprint_revocations where device_id = x.d and revoked_until >= x.t',
    want: (r, o) => (o.gone(r.deviceId) ? 0 : 1),
  },
  {
    kind: 'forget-edges',
    what: 'edge_withdrawals',
    columns: [
      ['d', 'text'],
      ['t', 'timestamptz'],
    ],
    values: (r, at) => [r.deviceId, at(r)],
    rows: 'select 1 from edge_withdrawals where device_id = x.d and withdrawn_at >= x.t',
    want: (r, o) => (o.gone(r.deviceId) ? 0 : 1),
  },
  {
    kind: 'forget-edges',
    what: 'edges it withdrew',
    columns: [
      ['d', 'text'],
      ['t', 'timestamptz'],
    ],
    values: (r, at) => [r.deviceId, at(r)],
    rows: 'select 1 from device_edges where (device_id = x.d or other_id = x.d) and first_seen <= x.t',
    want: () => 0,
  },
  {
    kind: 'erase',
    what: 'erased_devices',
    columns: [['d', 'text']],
    values: (r) => [r.deviceId],
    rows: 'select 1 from erased_devices where device_id = x.d',
    want: () => 1,
  },
  {
    kind: 'erase',
    what: 'what the device left',
    columns: [['d', 'text']],
    values: (r) => [r.deviceId],
    rows: `select 1 from page_views where device_id = x.d union all select 1 from sessions where device_id = x.d
      union all select 1 from identity_links where device_id = x.d union all select 1 from devices where device_id = x.d`,
    want: () => 0,
  },
  {
    kind: 'erase-user',
    what: 'erased_users',
    columns: [['u', 'text']],
    values: (r) => [r.userId],
    rows: 'select 1 from erased_users where user_id = x.u',
    want: () => 1,
  },
  {
    kind: 'erase-user',
    what: "the user's page views and links",
    columns: [['u', 'text']],
    values: (r) => [r.userId],
    rows: `select 1 from page_views where user_id = x.u union all select 1 from identity_links where user_id = x.u`,
    want: () => 0,
  },
];

/**
 * Looks every queued record of a batch up in Postgres; returns the records not written exactly once
 * (erased subjects must have left nothing). Also: no dead letter, no persister error.
 */
async function unwritten(queued: Queued[]): Promise<string[]> {
  // Erasures of this batch count for everything queued before them (same partition) or after (tombstones).
  for (const r of queued) {
    if (r.kind === 'erase' && r.deviceId) erasedDevices.add(r.deviceId);
    if (r.kind === 'erase-user' && r.userId) erasedUsers.add(wellFormed(r.userId));
  }
  const withdrawn = new Map<string, number>();
  for (const r of queued) {
    if (r.kind === 'forget-edges' && r.deviceId) {
      withdrawn.set(r.deviceId, Math.max(withdrawn.get(r.deviceId) ?? 0, r.ts));
    }
  }
  const gone = (d?: string) => d !== undefined && erasedDevices.has(d);
  const userGone = (u?: string) => u !== undefined && erasedUsers.has(wellFormed(u));
  const at = (r: Queued) => new Date(r.ts).toISOString();
  const bad: string[] = [];
  for (const r of queued) kindCounts.set(r.kind, (kindCounts.get(r.kind) ?? 0) + 1);
  for (const r of queued)
    if (!LOOKUPS.some((l) => l.kind === r.kind))
      bad.push(`${show(r)}: a record kind this test does not know`);
  // Per kind, one statement looks every record up: `x` is the record (its columns), `q` what it left.
  for (const l of LOOKUPS) {
    const records = queued.filter((r) => r.kind === l.kind && (l.when?.(r) ?? true));
    if (records.length === 0) continue;
    const values = records.map((r) => l.values(r, at));
    const columns = l.columns.map(([name, type], j) => ({ name, type, data: values.map((v) => v[j]) }));
    const rows = await sql<{ i: string; n: number }>(
      `select x.i, (select count(*) from (${l.rows}) as q)::int as n
       from unnest(${columns.map((c, j) => `$${j + 1}::${c.type}[]`).join(', ')})
         with ordinality as x(${columns.map((c) => c.name).join(', ')}, i)`,
      columns.map((c) => c.data),
    );
    for (const row of rows) {
      const r = records[Number(row.i) - 1]!;
      const want = l.want(r, { gone, userGone, withdrawn });
      if (row.n !== want) bad.push(`${show(r)}: ${row.n} rows (${l.what}), want ${want}`);
    }
  }
  // Sessions count each page view once: their counters equal their rows.
  const devices = [
    ...new Set(queued.filter((r) => r.kind === 'pageview' && r.deviceId).map((r) => r.deviceId)),
  ];
  const mismatched = await sql<{ device_id: string; counted: number; rows: number }>(
    `select s.device_id, s.counted, coalesce(p.n, 0)::int as rows
     from (select device_id, sum(page_views)::int as counted from sessions where device_id = any($1) group by device_id) s
     left join (select device_id, count(*)::int as n from page_views where device_id = any($1) group by device_id) p
       using (device_id)
     where s.counted <> coalesce(p.n, 0)`,
    [devices],
  );
  for (const m of mismatched)
    bad.push(`sessions of ${m.device_id} count ${m.counted} page views, ${m.rows} rows`);
  const letters = await sql<{ error: string; record: string }>('select error, record from dead_letters');
  for (const l of letters) bad.push(`dead letter: ${l.error.slice(0, 200)} ${l.record.slice(0, 300)}`);
  if (persisterErrors.length > 0) bad.push(`persister errors: ${describeErrors()}`);
  return bad;
}

/** The kept query values of a stored URL that are over their limit. */
const longValues = (url: string): string[] =>
  [...new URL(url, 'http://x.invalid').searchParams]
    .filter(([k, v]) => UTM.includes(k) && v.length > MAX_UTM_VALUE)
    .map(([k]) => k);

/**
 * Free text as queued (what Postgres must then hold): every page view's URL and referrer well-formed,
 * within its limit and its own kept form; the URL of a page view sent with an id exactly the sent
 * URL's kept form when that was within the limits, its referrer the sent referrer's origin.
 */
function unnormalised(sent: Sent[], queued: Queued[]): string[] {
  const bad: string[] = [];
  const byId = new Map<string, Queued>();
  for (const r of queued) {
    if (r.kind !== 'pageview') continue;
    if (r.eventId) byId.set(r.eventId, r);
    const url = r.url ?? '';
    if (
      !url.isWellFormed() ||
      url.length > MAX_URL ||
      sanitizeUrl(url, UTM) !== url ||
      longValues(url).length > 0
    ) {
      bad.push(`${show(r)}: a URL not normalised`);
    }
    if (r.referrer !== undefined && (!r.referrer.isWellFormed() || r.referrer.length > MAX_URL)) {
      bad.push(`${show(r)}: a referrer not normalised`);
    }
  }
  for (const { route, request, response } of sent) {
    if (!route.startsWith('POST /v1/events') || response.statusCode !== 202) continue;
    for (const e of sentEvents(request)) {
      const r = e.id === undefined ? undefined : byId.get(e.id.toLowerCase());
      if (!r) continue;
      const kept = sanitizeUrl(e.url.toWellFormed(), UTM);
      if (kept !== null && kept.length <= MAX_URL && longValues(kept).length === 0 && r.url !== kept) {
        bad.push(`${show(e.url)} was stored as ${show(r.url)}, not its kept form ${show(kept)}`);
      }
      const origin =
        typeof e.referrer === 'string' && e.referrer.length <= MAX_URL
          ? referrerOrigin(e.referrer.toWellFormed())
          : undefined;
      if (origin !== undefined && origin !== null && origin.length < 250 && r.referrer !== origin) {
        bad.push(`referrer ${show(e.referrer)} was stored as ${show(r.referrer)}, not ${show(origin)}`);
      }
    }
  }
  return bad;
}

/** The page views of an events request, from its JSON or beacon payload. */
function sentEvents(
  request: Record<string, unknown>,
): Array<{ url: string; referrer?: unknown; id?: string }> {
  const payload = typeof request.payload === 'string' ? JSON.parse(request.payload) : request.payload;
  return ((payload as { events?: unknown[] })?.events ?? []) as Array<{
    url: string;
    referrer?: unknown;
    id?: string;
  }>;
}

/**
 * The user agent of each session a 202 named, as Postgres holds it: the sent one, cut at 512 (a header
 * value is Latin-1, one character per byte: no surrogate pair to keep whole).
 */
async function userAgentsStored(sent: Sent[]): Promise<string[]> {
  const want = new Map<string, Set<string>>();
  for (const { route, request, response } of sent) {
    if (route !== 'POST /v1/events' || response.statusCode !== 202) continue;
    const deviceId = (response.json() as { deviceId?: string }).deviceId;
    const ua = (request.headers as Record<string, string | undefined> | undefined)?.['user-agent'];
    if (!deviceId || ua === undefined) continue;
    want.set(deviceId, (want.get(deviceId) ?? new Set()).add(ua.slice(0, MAX_USER_AGENT)));
  }
  const rows = await sql<{ device_id: string; user_agent: string | null }>(
    'select device_id, user_agent from sessions where device_id = any($1)',
    [[...want.keys()]],
  );
  return rows
    .filter((row) => row.user_agent !== null && !want.get(row.device_id)?.has(row.user_agent))
    .map(
      (row) =>
        `session of ${row.device_id} holds user agent ${show(row.user_agent)}, sent ${show([...(want.get(row.device_id) ?? [])])}`,
    );
}

/** Answers against the queue: what a route said it accepted was queued. */
function unqueued(sent: Sent[], queued: Queued[]): string[] {
  const bad: string[] = [];
  const pageviews = new Map<string, number>();
  const key = (kind: 'd' | 'u', id: string) => `${kind}\u0000${wellFormed(id)}`;
  for (const r of queued) {
    if (r.kind !== 'pageview') continue;
    const k = r.deviceId ? key('d', r.deviceId) : key('u', r.userId as string);
    pageviews.set(k, (pageviews.get(k) ?? 0) + 1);
  }
  const accepted = new Map<string, number>();
  for (const { route, request, response } of sent) {
    if (!route.startsWith('POST /v1/events') || response.statusCode !== 202) continue;
    const body = response.json() as { accepted: number; deviceId?: string; userId?: string };
    if (body.accepted === 0) continue;
    const k = body.userId !== undefined ? key('u', body.userId) : key('d', body.deviceId as string);
    accepted.set(k, (accepted.get(k) ?? 0) + body.accepted);
    if (!body.deviceId && !body.userId) bad.push(`202 without a subject to ${show(request)}`);
  }
  // At least: a request answered 503 after its script ran may have queued its page views too.
  for (const [k, n] of accepted) {
    if ((pageviews.get(k) ?? 0) < n) {
      bad.push(`${show(k)}: ${n} page views accepted, ${pageviews.get(k) ?? 0} queued`);
    }
  }
  const links = new Set(
    queued.filter((r) => r.kind === 'link').map((r) => `${r.deviceId}\u0000${wellFormed(r.userId ?? '')}`),
  );
  const erasures = new Set(queued.filter((r) => r.kind === 'erase').map((r) => r.deviceId));
  const userErasures = new Set(
    queued.filter((r) => r.kind === 'erase-user').map((r) => wellFormed(r.userId ?? '')),
  );
  for (const { route, request, response } of sent) {
    if (route === 'POST /v1/identify' && response.statusCode === 200) {
      const body = response.json() as { userId: string; deviceId: string | null };
      if (body.deviceId && !links.has(`${body.deviceId}\u0000${wellFormed(body.userId)}`)) {
        bad.push(`identify answered 200 but queued no link for ${show(body)}`);
      }
    }
    if (route === 'DELETE /v1/admin/devices/:deviceId' && response.statusCode === 204) {
      const id = (request as { deviceId: string }).deviceId;
      if (!erasures.has(id)) bad.push(`admin erasure of ${id} answered 204, nothing queued`);
    }
    if (route === 'DELETE /v1/admin/users/:userId' && response.statusCode === 204) {
      const id = (request as { userId: string }).userId;
      if (!userErasures.has(wellFormed(id)))
        bad.push(`user erasure of ${show(id)} answered 204, nothing queued`);
    }
  }
  return bad;
}

/**
 * One property per route family: `runs` clients from `client`, sent concurrently in batches of
 * BATCH, each batch drained and checked. Fails with the records not written and the seed.
 */
async function checkBatches<T>(
  client: fc.Arbitrary<T>,
  runs: number,
  play: (value: T, sent: Sent[]) => Promise<void>,
): Promise<void> {
  const details = await fc.check(
    fc.asyncProperty(fc.array(client, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const sent: Sent[] = [];
      let failed: { err: unknown } | null = null;
      await pool(batch.map((value) => () => play(value, sent))).catch((err: unknown) => {
        failed = { err };
      });
      // Edges are queued by an onSend hook that does not delay the answer.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const queued = await snapshot();
      const bad = [...unqueued(sent, queued), ...unnormalised(sent, queued)];
      await drain();
      bad.push(...(await unwritten(queued)), ...(await userAgentsStored(sent)));
      // A failed request still has its batch drained and checked, so the next property starts clean.
      if (failed) throw (failed as { err: unknown }).err;
      if (bad.length > 0) {
        throw new Error(
          `${bad.length} problems in a batch of ${queued.length} records:\n${bad.slice(0, 12).join('\n')}`,
        );
      }
    }),
    { numRuns: Math.ceil(runs / BATCH), endOnFailure: true, seed: SEED },
  );
  if (details.failed) {
    const err = details.errorInstance as Error | null;
    throw new Error(
      `property failed (seed ${details.seed}, path ${details.counterexamplePath}; PBT_SEED=${details.seed} replays it): ${err?.message ?? String(err)}`,
    );
  }
}

const services = hasServices('redis', 'postgres');

describe.runIf(services)('every record the routes accept is written exactly once (property)', () => {
  beforeAll(async () => {
    const services = await openServices('pbt');
    // Each step is closed by `services.close()`, last opened first.
    try {
      const app = await collector({
        ...services.env,
        PERSISTER: 'off',
        QUEUE_PARTITIONS: String(PARTITIONS),
        ADMIN_TOKEN,
        JWT_SECRET,
        RECOVERY_SECRET: 'a-property-test-recovery-secret-0123456789',
        BOT_FILTER: 'on',
        RATE_LIMIT_PER_MINUTE: '10000000',
        ADMIN_RATE_LIMIT_PER_MINUTE: '1000000',
        NEW_IDS_PER_ADDRESS: '10000000',
        NEW_IDS_PER_NETWORK: '10000000',
        NEW_IDS_PER_BLOCK: '10000000',
        RECOVERY_NETWORK_DAILY_CAP: '10000000',
        RECOVERY_BLOCK_DAILY_PERCENT: '100',
        RECOVERY_DAILY_CAP: '1000000000',
      });
      services.defer(() => app.close());
      const redis = new Redis(services.env.REDIS_URL as string, { maxRetriesPerRequest: 3 });
      services.defer(() => redis.quit());
      const queue = await createRedisStore(redis, { prefix: services.prefix, partitions: PARTITIONS });
      const db = await createDb({
        databaseUrl: services.env.DATABASE_URL as string,
        dataDir: '/nonexistent',
      });
      services.defer(() => db.close());
      const persister = createPersister({
        db: db.db,
        queue,
        // One pass takes a whole batch. Driven by runOnce (no lease keeper): a lease outlives a slow
        // pass on a loaded machine.
        batchSize: 5_000,
        leaseMs: 60_000,
        maxBackoffMs: 500,
        onError: (err, context) =>
          persisterErrors.push({ context, message: String((err as Error)?.message ?? err) }),
      });
      services.defer(() => persister.stop());
      const client = (services.database as NonNullable<TestServices['database']>).client;
      opened = { services, client, app, redis, db, persister };
    } catch (err) {
      await services.close();
      throw err;
    }
  });
  afterAll(async () => {
    await opened?.services.close();
  });

  it('page views without a token: header, cookie, beacon or no id, a replaced id, any URL and user agent', async () => {
    const browser = fc.record({
      header: fc.oneof(
        { arbitrary: deviceIdShape.map(unique), weight: 6 },
        { arbitrary: badDeviceId, weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
      cookie: fc.option(deviceIdShape.map(unique), { nil: undefined, freq: 2 }),
      fresh: fc.boolean(),
      mode: fc.constantFrom('json', 'json', 'beacon', 'marker'),
      userAgent,
      events,
    });
    await checkBatches(browser, RUNS, async (b, sent) => {
      const headers: Record<string, string | undefined> = { 'user-agent': b.userAgent };
      let payload: unknown = { events: b.events };
      if (b.mode === 'beacon') {
        // sendBeacon: text/plain, the id in the body.
        payload = JSON.stringify({
          events: b.events,
          deviceId: b.header,
          ...(b.fresh ? { fresh: true } : {}),
        });
        headers['content-type'] = 'text/plain;charset=UTF-8';
      } else {
        headers['x-device-fingerprint'] = b.header;
        if (b.fresh && b.mode !== 'marker') headers['x-device-fresh'] = '1';
      }
      if (b.cookie) headers.cookie = `device_fp=${b.cookie}`;
      // A reset on a shared computer: the new id names the cookie's id it replaces.
      if (b.mode === 'marker' && b.cookie) headers['x-device-replaces'] = b.cookie;
      await send('POST /v1/events', sent, { method: 'POST', url: '/v1/events', headers, payload });
    });
  });

  it('page views with a user token, whatever its sub (an ill-formed one is anonymous)', async () => {
    const user = fc.record({
      sub,
      device: fc.option(deviceIdShape.map(unique), { nil: undefined }),
      userAgent,
      events,
    });
    await checkBatches(user, RUNS, async (u, sent) => {
      const token = signJwt('HS256', claims({ sub: u.sub }), JWT_SECRET);
      await send('POST /v1/events (token)', sent, {
        method: 'POST',
        url: '/v1/events',
        headers: {
          authorization: `Bearer ${token}`,
          'x-device-fingerprint': u.device,
          'user-agent': u.userAgent,
        },
        payload: { events: u.events },
      });
    });
  });

  it('identify and login: a device with or without page views linked to any sub, a replaced id', async () => {
    const login = fc.record({
      sub,
      device: deviceIdShape.map(unique),
      previous: fc.option(deviceIdShape.map(unique), { nil: undefined, freq: 3 }),
      browsed: fc.option(events, { nil: undefined }),
    });
    await checkBatches(login, RUNS, async (l, sent) => {
      if (l.browsed) {
        await send('POST /v1/events', sent, {
          method: 'POST',
          url: '/v1/events',
          headers: { 'x-device-fingerprint': l.device },
          payload: { events: l.browsed },
        });
      }
      const token = signJwt('HS256', claims({ sub: l.sub }), JWT_SECRET);
      await send('POST /v1/identify', sent, {
        method: 'POST',
        url: '/v1/identify',
        headers: {
          authorization: `Bearer ${token}`,
          'x-device-fingerprint': l.device,
          ...(l.previous ? { cookie: `device_fp=${l.previous}`, 'x-device-replaces': l.previous } : {}),
        },
      });
    });
  });

  it("a browser's own device routes: evidence and joins, withdrawal, erasure", async () => {
    const pair = fc.record({
      first: deviceIdShape.map(unique),
      second: deviceIdShape.map(unique),
      visitorId,
      withdraws: fc.constantFrom('first', 'second'),
      erases: fc.constantFrom('first', 'second'),
      afterwards: fc.boolean(),
    });
    const ua =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
    await checkBatches(pair, RUNS, async (p, sent) => {
      const visit = (id: string, fresh: boolean) =>
        send('POST /v1/events', sent, {
          method: 'POST',
          url: '/v1/events',
          headers: {
            'x-device-fingerprint': id,
            'user-agent': ua,
            ...(fresh ? { 'x-device-fresh': '1' } : {}),
          },
          payload: { events: [{ type: 'pageview', url: '/' }] },
        });
      const evidence = (id: string) =>
        send('POST /v1/device/fingerprint', sent, {
          method: 'POST',
          url: '/v1/device/fingerprint',
          headers: { 'x-device-fingerprint': id, 'x-device-fresh': '1', 'user-agent': ua },
          payload: { visitorId: p.visitorId },
        });
      // The first browser visits and sends its evidence; the second, with the same fingerprint, is
      // joined to it; the first coming back revokes the join (seen on a request of its own).
      await visit(p.first, true);
      await evidence(p.first);
      // The second's evidence is its first request.
      await evidence(p.second);
      if (p.afterwards) await visit(p.first, false);
      const id = (which: 'first' | 'second') => (which === 'first' ? p.first : p.second);
      await send('DELETE /v1/device/recovery', sent, {
        method: 'DELETE',
        url: '/v1/device/recovery',
        headers: { 'x-device-fingerprint': id(p.withdraws), 'user-agent': ua },
      });
      await send('DELETE /v1/device', sent, {
        method: 'DELETE',
        url: '/v1/device',
        headers: { cookie: `device_fp=${id(p.erases)}`, 'user-agent': ua },
      });
    });
  });

  it('admin erasures of any device id and any user id', async () => {
    const erasure = fc.record({
      device: fc.oneof(
        { arbitrary: deviceIdShape.map(unique), weight: 5 },
        { arbitrary: badDeviceId, weight: 1 },
      ),
      // Now and then something to erase: a page view of the device, one of the user.
      browsed: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
      sub,
      signedIn: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
    });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    /** A path segment as a client can send it: UTF-8 percent-encoded; a lone surrogate as its WTF-8 bytes. */
    const segment = (s: string) =>
      [...s]
        .map((c) => {
          const code = c.codePointAt(0) as number;
          if (code >= 0xd800 && code <= 0xdfff) {
            return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
              .map((b) => `%${b.toString(16).toUpperCase()}`)
              .join('');
          }
          return encodeURIComponent(c);
        })
        .join('');
    await checkBatches(erasure, RUNS, async (e, sent) => {
      if (e.browsed && e.device) {
        await send('POST /v1/events', sent, {
          method: 'POST',
          url: '/v1/events',
          headers: { 'x-device-fingerprint': e.device },
          payload: { events: [{ type: 'pageview', url: '/before-erasure' }] },
        });
      }
      if (e.signedIn) {
        await send('POST /v1/events (token)', sent, {
          method: 'POST',
          url: '/v1/events',
          headers: { authorization: `Bearer ${signJwt('HS256', claims({ sub: e.sub }), JWT_SECRET)}` },
          payload: { events: [{ type: 'pageview', url: '/signed-in' }] },
        });
      }
      const device = e.device ?? 'absent';
      const d = await app().inject({
        method: 'DELETE',
        url: `/v1/admin/devices/${segment(device)}`,
        headers: admin,
      });
      sent.push({ route: 'DELETE /v1/admin/devices/:deviceId', request: { deviceId: device }, response: d });
      const u = await app().inject({
        method: 'DELETE',
        url: `/v1/admin/users/${segment(e.sub)}`,
        headers: admin,
      });
      sent.push({ route: 'DELETE /v1/admin/users/:userId', request: { userId: e.sub }, response: u });
      answered('DELETE /v1/admin/devices/:deviceId', d, { deviceId: device });
      answered('DELETE /v1/admin/users/:userId', u, { userId: e.sub });
    });
  });

  it('covered every route and every record kind', () => {
    for (const route of [
      'POST /v1/events',
      'POST /v1/events (token)',
      'POST /v1/identify',
      'POST /v1/device/fingerprint',
      'DELETE /v1/device/recovery',
      'DELETE /v1/device',
      'DELETE /v1/admin/devices/:deviceId',
      'DELETE /v1/admin/users/:userId',
    ]) {
      const requests = routeCounts.get(route) ?? 0;
      expect(requests, route).toBeGreaterThanOrEqual(RUNS);
      const refused = unavailable.get(route) ?? [];
      expect(
        refused.length,
        `${route} answered 503 to ${refused.length} of ${requests}: ${refused.slice(0, 3).join(' | ')}`,
      ).toBeLessThanOrEqual(Math.floor(requests * MAX_UNAVAILABLE));
    }
    for (const kind of [
      'pageview',
      'link',
      'edge',
      'boundary',
      'unjoin',
      'forget-edges',
      'erase',
      'erase-user',
    ]) {
      expect(kindCounts.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
  });
});
