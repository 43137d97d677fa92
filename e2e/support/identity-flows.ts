/**
 * Device identity against the collector on Redis and Postgres (docs/protocol.md, Device id, Tiered
 * lookup, Edges), declared once and run in each engine (identity.e2e.ts in Chromium,
 * identity-firefox.e2e.ts in Firefox ESR): the minted id from the first page view, the cookie behind a
 * cleared localStorage, the fingerprint join after both stores were cleared, twins on one network whose
 * join is revoked, `reset()` at logout and consent withdrawn then granted again. Browsers are contexts of
 * one launched engine, each on a network of its own through `X-Forwarded-For`; they share one build, so
 * their FingerprintJS visitorIds are identical (checked). Assertions are on mechanisms (what went over
 * the wire, the edges the collector stored), never on time.
 */
import { waitFor } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DeviceDetail, deviceDetail } from './admin-api.js';
import { type CollectorOnServices, type CollectorProcess, startOnServices } from './collector-process.js';
import { ID_KEY, MINTED_ID, VISITOR_ID } from './demo-page.js';
import type { EngineBrowser, EngineInstance, EnginePage } from './engine.js';
import type { Exchange, RequestLog } from './request-log.js';

/** The engine's page helpers the flows share: the demo's stored id and its panels. */
const storedId = async (page: EnginePage): Promise<string> =>
  (await page.waitUntil((key) => localStorage.getItem(key), ID_KEY))!;
const storedIdBecomes = (page: EnginePage, id: string) =>
  page.waitUntil(([key, want]) => localStorage.getItem(key!) === want, [ID_KEY, id] as const);
const source = (page: EnginePage) => page.evaluate(() => window.devicelinkDemo!.dl.deviceIdSource(), null);

/** Declares the identity flows in the engine `launch` starts (one per file, browsers are its contexts). */
export function identityFlows(launch: () => Promise<EngineInstance>): void {
  let running: CollectorOnServices;
  let collector: CollectorProcess;
  let engine: EngineInstance;
  const shot = (page: EnginePage, name: string) => page.screenshot(`identity-${engine.name}-${name}`);

  beforeAll(async () => {
    [running, engine] = await Promise.all([
      startOnServices('e2e_identity', {
        // The networks come in X-Forwarded-For from 127.0.0.1 (an address: a hop count is not honoured).
        TRUST_PROXY: '127.0.0.1',
        RECOVERY_SECRET: 'e2e-recovery-secret-0123456789abcdef01234567',
      }),
      launch(),
    ]);
    collector = running.collector;
  });

  afterAll(async () => {
    await engine?.close();
    await running?.close();
  });

  const person = (address: string) => engine.browser({ forwardedFor: address });
  const sql = async (text: string, values: unknown[] = []) =>
    (await running.services.database!.client.query(text, values)).rows;
  const cookieOf = (p: EngineBrowser) => p.cookie(collector.url, 'device_fp');
  const toCollector = (log: RequestLog) =>
    log.all.filter((e) => e.url.startsWith(`${collector.url}/v1/`) && e.method !== 'OPTIONS');
  /**
   * The answer to the fingerprint evidence sent in this log (FingerprintJS runs for a minted id): always
   * `received` (the answer is no oracle); what became of it shows in the admin API and Postgres.
   */
  const evidence = async (log: RequestLog): Promise<{ exchange: Exchange; status: string }> => {
    const exchange = await waitFor(() => log.to('/v1/device/fingerprint', { answered: true })[0], {
      what: 'the fingerprint evidence',
    });
    expect(exchange.status).toBe(202);
    return { exchange, status: JSON.parse(exchange.responseBody!).status };
  };
  /** Opens the demo in a new page of `p` and waits for the stored id. */
  const visit = async (p: EngineBrowser): Promise<{ page: EnginePage; id: string }> => {
    const page = await p.newPage();
    await page.goto(`${collector.url}/demo/`);
    return { page, id: await storedId(page) };
  };
  /** Clears the stores with no page of the demo open (an open page would send its pagehide beacon). */
  const clearStores = async (p: EngineBrowser, which: { localStorage: boolean; cookies: boolean }) => {
    expect(p.openPages()).toBe(0);
    if (which.localStorage) {
      const blank = await p.newPage();
      await blank.goto(`${collector.url}/healthz`);
      await blank.evaluate(() => localStorage.clear(), null);
      await blank.close();
    }
    if (which.cookies) await p.clearCookies();
  };
  const detailWith = (id: string, what: string, check: (d: DeviceDetail) => boolean) =>
    waitFor(
      async () => {
        const d = await deviceDetail(collector.url, id);
        return check(d) ? d : null;
      },
      { what },
    );
  /** Sends the page's waiting page views, then closes it (a closing page's beacon is not awaited). */
  const leave = async (page: EnginePage) => {
    await page.evaluate(() => window.devicelinkDemo!.dl.flush(), null);
    await page.close();
  };
  const cookieBecomes = (p: EngineBrowser, want: string | undefined, what: string) =>
    waitFor(async () => (await cookieOf(p)) === want || null, { what });

  describe('one browser', () => {
    let alice: EngineBrowser;
    let deviceId: string;

    beforeAll(async () => {
      alice = await person('10.61.1.7');
    });

    test('the first page view is counted under the minted id: every request carries it and the collector never makes a server id', async () => {
      const { page, id } = await visit(alice);
      deviceId = id;
      expect(deviceId).toMatch(MINTED_ID);
      const pageview = await waitFor(() => alice.log.to('/v1/events', { answered: true })[0], {
        what: 'the first page view',
      });
      expect(pageview.headers['x-device-fingerprint']).toBe(deviceId);
      expect(pageview.responseHeaders?.['x-device-fingerprint']).toBe(deviceId);
      // The first request (the page view or the demo's session read, whichever left first) went fresh.
      const first = toCollector(alice.log)[0]!;
      expect(first.headers).toMatchObject({ 'x-device-fingerprint': deviceId, 'x-device-fresh': '1' });
      // The fingerprint is evidence of its own: registered (nothing to join on this network yet). A
      // headless test browser also sends its automation signals (the collector runs BOT_FILTER=off).
      const sent = await evidence(alice.log);
      expect(JSON.parse(sent.exchange.body!)).toMatchObject({
        visitorId: expect.stringMatching(VISITOR_ID),
        deviceId,
      });
      expect(sent.status).toBe('received');
      await leave(page);

      for (const e of toCollector(alice.log)) expect(e.headers['x-device-fingerprint'], e.url).toBe(deviceId);
      const detail = await detailWith(
        deviceId,
        'the first page view persisted',
        (d) => d.persisted.pageViews > 0,
      );
      expect(detail.persisted.sessions.map((s) => s.source)).toEqual(['header']);
      // Nothing else exists: no server-made id holds an orphaned page view.
      expect(await sql('select distinct device_id from page_views')).toEqual([{ device_id: deviceId }]);
      expect(await sql(`select count(*)::int as n from sessions where source = 'server'`)).toEqual([
        { n: 0 },
      ]);
    });

    test('with localStorage cleared (page closed) the minted id yields to the cookie: the same device, and a yield edge', async () => {
      await clearStores(alice, { localStorage: true, cookies: false });
      alice.log.clear();
      const { page } = await visit(alice);
      await storedIdBecomes(page, deviceId);
      const fresh = toCollector(alice.log).find((e) => e.headers['x-device-fresh'] === '1')!;
      const minted = fresh.headers['x-device-fingerprint']!;
      expect(minted).toMatch(MINTED_ID);
      expect(minted).not.toBe(deviceId);
      // A fresh id never rewrites the cookie; the page views land on the device the cookie names.
      expect(await cookieOf(alice)).toBe(deviceId);
      expect(await source(page)).toBe('cookie');
      await expect.poll(() => page.textContent('#device-how')).toMatch(/cookie/);
      await detailWith(deviceId, 'the yield edge', (d) =>
        d.edges.some(
          (e) => e.kind === 'yield' && e.deviceId === deviceId && e.otherId === minted && !e.inferred,
        ),
      );
      expect(await sql('select distinct device_id from page_views')).toEqual([{ device_id: deviceId }]);
      await shot(page, '1-cookie');
      await page.close();
    });

    test('with both stores cleared on the same network, a fingerprint no other browser there has joins the new id to the device, shown as inferred', async () => {
      await clearStores(alice, { localStorage: true, cookies: true });
      alice.log.clear();
      const { page, id: joinedId } = await visit(alice);
      expect(joinedId).not.toBe(deviceId);
      expect((await evidence(alice.log)).status).toBe('received');
      // The collector never answers with the other device's id: the browser keeps its new one.
      for (const e of toCollector(alice.log)) {
        expect(e.responseHeaders?.['x-device-fingerprint'] ?? joinedId, e.url).toBe(joinedId);
      }
      const detail = await detailWith(joinedId, 'the join in Postgres', (d) => d.edges.length > 0);
      expect(detail.edges).toEqual([
        expect.objectContaining({ deviceId: joinedId, otherId: deviceId, kind: 'join', inferred: true }),
      ]);
      // Reports resolve the new id to the browser's device (the earliest id), reached by inference.
      expect(detail.browser.canonicalId).toBe(deviceId);
      expect(detail.browser.devices).toContainEqual(expect.objectContaining({ deviceId, inferred: true }));
      // The demo asks the collector how its id came.
      await expect.poll(() => page.textContent('#device-how'), { timeout: 10_000 }).toMatch(/joined/);
      await shot(page, '2-joined');
      await page.close();
    });
  });

  test('identical twins on one network: the second is joined to the first until the first is seen again, then the join is revoked and the shared fingerprint joins nobody', async () => {
    const a = await person('10.61.2.7');
    const b = await person('10.61.2.9');
    const first = await visit(a);
    const fromA = await evidence(a.log);
    expect(fromA.status).toBe('received');
    await first.page.close();

    // The twin arrives: the same visitorId (one build, same settings) on the same network.
    const second = await visit(b);
    const fromB = await evidence(b.log);
    expect(JSON.parse(fromB.exchange.body!).visitorId).toBe(JSON.parse(fromA.exchange.body!).visitorId);
    expect(fromB.status).toBe('received');
    await second.page.close();
    const join = (
      await detailWith(second.id, 'the twin join', (d) => d.edges.some((e) => e.kind === 'join'))
    ).edges.find((e) => e.kind === 'join')!;
    expect(join).toMatchObject({ deviceId: second.id, otherId: first.id, inferred: true });

    // The first twin's own request: the other browser still exists, so the join is revoked.
    const again = await visit(a);
    expect(again.id).toBe(first.id);
    await again.page.close();
    const [edge] = await sql(
      `select first_seen from device_edges where device_id = $1 and other_id = $2 and kind = 'join'`,
      [second.id, first.id],
    );
    const revoked = await waitFor(
      async () =>
        (await sql('select revoked_until from fingerprint_revocations where device_id = $1', [first.id]))[0],
      { what: 'the revocation in Postgres' },
    );
    expect(new Date(revoked.revoked_until).getTime()).toBeGreaterThanOrEqual(
      new Date(edge.first_seen).getTime(),
    );

    // Reports no longer count the twins as one browser.
    const apart = await detailWith(second.id, 'the twins apart', (d) => d.browser.canonicalId === second.id);
    expect(apart.browser.devices.map((m) => m.deviceId)).not.toContain(first.id);

    // Both have visited again; when the second clears both stores, the shared fingerprint joins nothing.
    const secondAgain = await visit(b);
    expect(secondAgain.id).toBe(second.id);
    await secondAgain.page.close();
    await clearStores(b, { localStorage: true, cookies: true });
    b.log.clear();
    const cleared = await visit(b);
    expect(cleared.id).not.toBe(second.id);
    expect((await evidence(b.log)).status).toBe('received');
    await leave(cleared.page);
    const after = await detailWith(cleared.id, 'the new id persisted', (d) => d.persisted.pageViews > 0);
    expect(after.edges).toEqual([]);
    expect(after.browser.canonicalId).toBe(cleared.id);
    await a.close();
    await b.close();
  });

  test('reset() at logout clears the cookie and mints a new id that is never fingerprinted: the next person starts a device of their own', async () => {
    const p = await person('10.61.3.7');
    const { page, id: old } = await visit(p);
    expect((await evidence(p.log)).status).toBe('received');
    await cookieBecomes(p, old, 'the cookie of the first id');

    p.log.clear();
    expect(await page.evaluate(() => window.devicelinkDemo!.dl.reset(), null)).toEqual({ ok: true });
    const cleared = await waitFor(() => p.log.to('/v1/device/cookie', { answered: true })[0], {
      what: 'the cookie DELETE answered',
    });
    expect(p.log.to('/v1/device/cookie').length).toBe(1);
    expect(cleared).toMatchObject({ method: 'DELETE', status: 204 });
    expect(cleared.responseHeaders?.['set-cookie']).toMatch(/device_fp=;.*Max-Age=0/i);
    const next = await storedId(page);
    expect(next).toMatch(MINTED_ID);
    expect(next).not.toBe(old);
    expect(await source(page)).toBe('minted');

    // The next request goes with the new id and the collector keeps it: a device of its own.
    await page.click('#refresh-session');
    await cookieBecomes(p, next, 'the cookie of the new id');
    expect(await page.evaluate(() => window.devicelinkDemo!.dl.deviceId(), null)).toBe(next);
    // reset() first sends the page views still waiting (the previous person's), then its own DELETE
    // names the old id; nothing after that DELETE does.
    const all = toCollector(p.log);
    const after = all.slice(all.indexOf(cleared) + 1).filter((e) => e.headers['x-device-fingerprint']);
    expect(after.length).toBeGreaterThan(0);
    for (const e of after) expect(e.headers['x-device-fingerprint'], `${e.method} ${e.url}`).not.toBe(old);
    // Never fingerprinted: no evidence could join it to the previous person's device.
    expect(p.log.to('/v1/device/fingerprint')).toEqual([]);
    await page.click('nav a[data-route="pricing"]');
    await page.evaluate(() => window.devicelinkDemo!.dl.flush(), null);
    await page.close();
    const detail = await detailWith(next, 'the new id persisted', (d) => d.persisted.pageViews > 0);
    expect(detail.edges).toEqual([]);
    expect(detail.browser.canonicalId).toBe(next);
    await p.close();
  });

  test('withdrawn consent deletes the recovery evidence and clears the cookie; granted again, a new id is minted that replaces the old one, is never fingerprinted and is never joined to the old device', async () => {
    const p = await person('10.61.4.7');
    const { page, id: old } = await visit(p);
    expect((await evidence(p.log)).status).toBe('received');
    await cookieBecomes(p, old, 'the cookie of the first id');

    p.log.clear();
    await page.click('#consent-switch');
    const withdrawn = await waitFor(() => p.log.to('/v1/device/recovery', { answered: true })[0], {
      what: 'the withdrawal request',
    });
    expect(withdrawn).toMatchObject({ method: 'DELETE', status: 204 });
    expect(withdrawn.headers['x-device-fingerprint']).toBe(old);
    expect(await page.evaluate((key) => localStorage.getItem(key), ID_KEY)).toBeNull();
    await cookieBecomes(p, undefined, 'the cookie cleared');
    await shot(page, '3-withdrawn');

    p.log.clear();
    await page.click('#consent-switch');
    const next = await storedId(page);
    expect(next).not.toBe(old);
    expect(await source(page)).toBe('minted');
    await cookieBecomes(p, next, 'the cookie of the new id');
    // A replacement, not a first visit: sent with the marker, never fingerprinted, so no evidence can
    // join it to the device consent was withdrawn from.
    const marked = toCollector(p.log).find((e) => e.headers['x-device-fingerprint'] === next);
    expect(marked?.headers['x-device-replaces']).toBe(old);
    expect(p.log.to('/v1/device/fingerprint')).toEqual([]);
    // The page view dropped under denied consent is not sent again: the next navigation counts.
    await page.click('nav a[data-route="pricing"]');
    await page.evaluate(() => window.devicelinkDemo!.dl.flush(), null);
    await page.close();
    const detail = await detailWith(next, 'the new id persisted', (d) => d.persisted.pageViews > 0);
    expect(detail.edges).toEqual([]);
    expect(detail.browser.canonicalId).toBe(next);
    await p.close();
  });
}
