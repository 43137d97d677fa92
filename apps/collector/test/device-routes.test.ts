/**
 * The SDK's device routes and fingerprint joins through the collector (docs/protocol.md, Fingerprint
 * joins, HTTP API): evidence joins a minted id to one device on its network without ever naming it,
 * its answer is the same whatever became of it, identify never joins, withdrawal and `forget()` reach
 * only the calling device.
 */
import { randomBytes } from 'node:crypto';
import type { QueueRecord } from '@devicelink/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { EVIDENCE_ANSWER_FLOOR_MS } from '../src/ingest/device-routes.js';
import {
  ADMIN_TOKEN,
  collector,
  eventsBody,
  sendPageviews,
  tempDataDir,
  useCollector,
} from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const SECRET = 'device-routes-test-secret-long-enough';
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const id = () => randomBytes(16).toString('base64url');
/** The one answer to evidence, whatever became of it. */
const RECEIVED = { status: 'received' };

/** The join edges queued for `deviceId`. */
const joinsOf = (records: QueueRecord[], deviceId: string) =>
  records.filter((r) => r.kind === 'edge' && r.edge === 'join' && r.deviceId === deviceId);

/** Every queued record (PERSISTER=off: nothing drains the queue but this). */
async function queued(app: FastifyInstance): Promise<QueueRecord[]> {
  const { store } = app.collector.resources;
  const out: QueueRecord[] = [];
  for (let p = 0; p < store.partitions; p++) {
    for (;;) {
      const batch = await store.read(p, `reader-${id()}`, 500);
      if (batch.length === 0) break;
      out.push(...batch.map((e) => e.record));
    }
  }
  return out;
}

/** A browser's first visit from `ip`: the minted id's fresh page view, then its evidence. */
async function firstVisit(app: FastifyInstance, ip: string, visitorId = 'same-model-visitor-id') {
  const device = id();
  const headers = { 'x-device-fingerprint': device, 'user-agent': CHROME, 'x-forwarded-for': ip };
  const events = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...headers, 'x-device-fresh': '1' },
    payload: eventsBody(),
  });
  expect(events.statusCode).toBe(202);
  const evidence = await app.inject({
    method: 'POST',
    url: '/v1/device/fingerprint',
    headers,
    payload: { visitorId, deviceId: device },
  });
  return { device, evidence };
}

describe('device routes with fingerprint joins on', () => {
  const ctx = useCollector('device_routes', {
    RECOVERY_SECRET: SECRET,
    // An address list: this Fastify version trusts no forwarded address for a hop count.
    TRUST_PROXY: '127.0.0.1',
    PERSISTER: 'off',
    JWT_SECRET: SECRET,
  });

  it('joins a minted id to the one device with its fingerprint on its /24, and never answers that id', async () => {
    const first = await firstVisit(ctx.app, '203.0.113.5');
    expect(first.evidence.statusCode).toBe(202);
    expect(first.evidence.json()).toEqual(RECEIVED);
    const second = await firstVisit(ctx.app, '203.0.113.77');
    expect(second.evidence.json()).toEqual(RECEIVED);
    expect(second.evidence.body + JSON.stringify(second.evidence.headers)).not.toContain(first.device);
    expect(await queued(ctx.app)).toContainEqual(
      expect.objectContaining({ kind: 'edge', edge: 'join', deviceId: second.device, otherId: first.device }),
    );
    const elsewhere = await firstVisit(ctx.app, '198.51.100.9');
    expect(elsewhere.evidence.json()).toEqual(RECEIVED);
    expect(joinsOf(await queued(ctx.app), elsewhere.device)).toEqual([]);
  });

  it("joins on evidence that says `fresh` when the note of the minted id's first answer was lost", async () => {
    const visitorId = `lost-note-${id()}`;
    const first = await firstVisit(ctx.app, '203.0.113.90', visitorId);
    expect(first.evidence.statusCode).toBe(202);
    // The cleared browser's minted id: its first page view went (here without the fresh header, as if
    // the store had timed out noting it), then its evidence, as the SDK sends it, with `fresh: true`.
    const evidenceOf = async (fresh: boolean, ip: string) => {
      const device = id();
      const headers = { 'x-device-fingerprint': device, 'user-agent': CHROME, 'x-forwarded-for': ip };
      const events = await ctx.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers,
        payload: eventsBody(),
      });
      expect(events.statusCode).toBe(202);
      const evidence = await ctx.app.inject({
        method: 'POST',
        url: '/v1/device/fingerprint',
        headers,
        payload: { visitorId, deviceId: device, ...(fresh ? { fresh: true } : {}) },
      });
      expect(evidence.json()).toEqual(RECEIVED);
      return device;
    };
    // Without it the id was never seen fresh here: the evidence changes nothing.
    const unnoted = await evidenceOf(false, '203.0.113.91');
    expect(joinsOf(await queued(ctx.app), unnoted)).toEqual([]);
    const noted = await evidenceOf(true, '203.0.113.92');
    expect(await queued(ctx.app)).toContainEqual(
      expect.objectContaining({ kind: 'edge', edge: 'join', deviceId: noted, otherId: first.device }),
    );
  });

  it('answers evidence alike whatever became of it (registered, joined, shared, not taken), never before the floor', async () => {
    const visitorId = `oracle-${id()}`;
    const answers = [
      await firstVisit(ctx.app, '203.0.113.40', visitorId), // registered
      await firstVisit(ctx.app, '203.0.113.41', visitorId), // joined
    ];
    // An old id (never seen fresh here) asks about the entry: it learns nothing and changes nothing.
    answers.push({
      device: '',
      evidence: await ctx.app.inject({
        method: 'POST',
        url: '/v1/device/fingerprint',
        headers: { 'x-device-fingerprint': id(), 'user-agent': CHROME, 'x-forwarded-for': '203.0.113.42' },
        payload: { visitorId },
      }),
    });
    for (const { evidence } of answers) {
      expect(evidence.statusCode).toBe(202);
      expect(evidence.body).toBe(JSON.stringify(RECEIVED));
    }
    const shape = (h: Record<string, unknown>) =>
      Object.keys(h)
        .filter(
          (k) =>
            ![
              'date',
              'x-device-fingerprint',
              'set-cookie',
              'x-ratelimit-remaining',
              'x-ratelimit-reset',
            ].includes(k),
        )
        .sort()
        .map((k) => `${k}: ${k === 'content-length' ? h[k] : typeof h[k]}`);
    expect(new Set(answers.map((a) => JSON.stringify(shape(a.evidence.headers)))).size).toBe(1);
    // Padded: the work of each differs, the time of its answer does not fall below the floor.
    const started = performance.now();
    await firstVisit(ctx.app, '203.0.113.43', `floor-${id()}`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(EVIDENCE_ANSWER_FLOOR_MS);
  });

  it('identify never makes a join, even for a minted id whose fingerprint twin is registered', async () => {
    const visitorId = `identify-${id()}`;
    await firstVisit(ctx.app, '203.0.113.5', visitorId);
    await queued(ctx.app);
    const device = id();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        authorization: `Bearer ${signJwt('HS256', claims({ sub: 'user-1' }), SECRET)}`,
        'x-device-fingerprint': device,
        'x-device-fresh': '1',
        'user-agent': CHROME,
        'x-forwarded-for': '203.0.113.6',
      },
    });
    expect(res.json()).toMatchObject({ userId: 'user-1', deviceId: device });
    const records = await queued(ctx.app);
    expect(records.map((r) => r.kind)).toEqual(['link']);
  });

  it('refuses evidence without a usable visitorId (400), and takes none for a yielded fresh id', async () => {
    for (const payload of [{}, { visitorId: '' }, { visitorId: 'x'.repeat(129) }]) {
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/device/fingerprint', payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toMatch(/^DL_/);
    }
    // Found by the fuzz run (bench fuzz): the schema counts code points, the plugin counted UTF-16 units,
    // so 128 four-byte characters passed the schema and were answered 503 "store unavailable".
    const wide = '\u{1f600}'.repeat(128);
    for (const [visitorId, status] of [
      [wide, 202],
      [`${wide}\u{1f600}`, 400],
      ['\ud800'.repeat(128), 202],
    ] as const) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/device/fingerprint',
        headers: { 'x-device-fingerprint': id() },
        payload: { visitorId },
      });
      expect(res.statusCode, JSON.stringify(visitorId).slice(0, 20)).toBe(status);
    }
    const cookie = id();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/device/fingerprint',
      headers: { 'x-device-fingerprint': id(), 'x-device-fresh': '1' },
      cookies: { device_fp: cookie },
      payload: { visitorId: 'v' },
    });
    expect(res.json()).toEqual(RECEIVED);
    expect(res.headers['x-device-fingerprint']).toBe(cookie);
  });

  it('DELETE /v1/device/recovery forgets the caller and closes the entry: nothing registers or joins on it', async () => {
    const visitorId = `withdraw-${id()}`;
    const owner = await firstVisit(ctx.app, '203.0.113.5', visitorId);
    const claimant = await firstVisit(ctx.app, '203.0.113.8', visitorId);
    expect(joinsOf(await queued(ctx.app), claimant.device)).toHaveLength(1);
    const res = await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/device/recovery',
      headers: { 'x-device-fingerprint': claimant.device },
      cookies: { device_fp: claimant.device },
    });
    expect(res.statusCode).toBe(204);
    // The cookie goes too: it would name the withdrawn device for 400 days, and a later grant adopt it.
    expect(res.cookies).toEqual([expect.objectContaining({ name: 'device_fp', value: '', maxAge: 0 })]);
    const forgotten = await queued(ctx.app);
    expect(forgotten.filter((r) => r.kind === 'forget-edges')).toEqual([
      expect.objectContaining({ deviceId: claimant.device }),
      expect.objectContaining({ deviceId: claimant.device }),
    ]);
    // A tombstone: the next minted id neither joins nor registers (delete-and-own is impossible), so
    // the one after it has nothing to join either.
    const next = await firstVisit(ctx.app, '203.0.113.9', visitorId);
    const after = await firstVisit(ctx.app, '203.0.113.10', visitorId);
    expect(after.evidence.json()).toEqual(RECEIVED);
    const records = await queued(ctx.app);
    expect([...joinsOf(records, next.device), ...joinsOf(records, after.device)]).toEqual([]);
    expect(owner.device).not.toBe(claimant.device);
  });

  it('DELETE /v1/device erases the header id and the cookie id, nothing else, and clears the cookie', async () => {
    const [header, cookie, bystander] = [id(), id(), id()];
    for (const device of [header, cookie, bystander]) {
      await sendPageviews(ctx.app, device);
    }
    await queued(ctx.app);
    const res = await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/device',
      headers: { 'x-device-fingerprint': header },
      cookies: { device_fp: cookie },
    });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['set-cookie'])).toMatch(/^device_fp=;/);
    const erased = (await queued(ctx.app)).filter((r) => r.kind === 'erase').map((r) => r.deviceId);
    expect(erased.sort()).toEqual([header, cookie].sort());
    const after = await sendPageviews(ctx.app, header);
    expect(after.json()).toEqual({ accepted: 0, tracked: false });
  });

  it('DELETE /v1/device/cookie clears the cookie and touches no store', async () => {
    const res = await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/device/cookie',
      cookies: { device_fp: id() },
    });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['set-cookie'])).toMatch(/^device_fp=;.*Max-Age=0|^device_fp=;.*Expires=/);
    expect(await queued(ctx.app)).toEqual([]);
  });

  it('ignores a body sent with a DELETE, JSON or not, instead of answering 400 or 415', async () => {
    for (const [type, payload] of [
      ['text/plain', 'not json'],
      ['application/json', '{broken'],
      ['application/xml', '<x/>'],
    ]) {
      const res = await ctx.app.inject({
        method: 'DELETE',
        url: '/v1/device/cookie',
        headers: { 'content-type': type! },
        payload: payload!,
      });
      expect(res.statusCode).toBe(204);
    }
  });
});

describe('user erasure and edges', () => {
  const ctx = useCollector('erase_edges', { PERSISTER: 'off', ADMIN_TOKEN });

  it('follows links by login and cookie edges, never a fingerprint join', async () => {
    const db = ctx.app.collector.resources.db.db;
    const [linked, sameBrowser, twin, otherUsers] = [id(), id(), id(), id()];
    const user = `user-${id()}`;
    const t = new Date();
    await db
      .insertInto('identity_links')
      .values([
        { id: crypto.randomUUID(), device_id: linked, user_id: user, linked_at: t },
        { id: crypto.randomUUID(), device_id: otherUsers, user_id: `other-${id()}`, linked_at: t },
      ])
      .execute();
    await db
      .insertInto('device_edges')
      .values([
        { device_id: sameBrowser, other_id: linked, kind: 'cookie', first_seen: t },
        { device_id: twin, other_id: linked, kind: 'join', first_seen: t },
        { device_id: otherUsers, other_id: linked, kind: 'yield', first_seen: t },
      ])
      .execute();
    const res = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${user}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(204);
    const erased = (await queued(ctx.app)).filter((r) => r.kind === 'erase').map((r) => r.deviceId);
    // The twin (a join) and a device another user is linked to stay.
    expect(erased.sort()).toEqual([linked, sameBrowser].sort());
  });
});

describe('fingerprint joins off', () => {
  it('without RECOVERY_SECRET on a shared store, or with RECOVERY=off, evidence is not taken', async () => {
    const data = tempDataDir();
    const app = await collector({ DATA_DIR: data.dir, RECOVERY: 'off' });
    try {
      const { evidence } = await firstVisit(app, '127.0.0.1');
      expect(evidence.json()).toEqual(RECEIVED);
      expect(app.collector.resources.recoverySecret).toBeNull();
    } finally {
      await app.close();
      data.remove();
    }
  });

  it('an embedded collector makes its secret once in DATA_DIR and keeps it across restarts', async () => {
    const data = tempDataDir();
    try {
      const first = await collector({ DATA_DIR: data.dir });
      const secret = first.collector.resources.recoverySecret;
      await first.close();
      const second = await collector({ DATA_DIR: data.dir });
      expect(second.collector.resources.recoverySecret).toBe(secret);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      await second.close();
    } finally {
      data.remove();
    }
  });
});
