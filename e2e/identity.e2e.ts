/**
 * Device identity in Chromium against the collector on Redis and Postgres (docs/protocol.md, Device id,
 * Tiered lookup, Edges): the minted id from the first page view, the cookie behind a cleared
 * localStorage, the fingerprint join after both stores were cleared, and twins on one network whose
 * join is revoked. Browsers are contexts of one Chromium, each on a network of its own through
 * `X-Forwarded-For`; they share one build, so their FingerprintJS visitorIds are identical (checked).
 * Assertions are on mechanisms (what went over the wire, the edges the collector stored), never on time.
 */
import { hasServices, waitFor } from '@devicelink/test-env';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DeviceDetail, deviceDetail } from './support/admin-api.js';
import { type BrowserPool, launchPool, screenshot } from './support/browser.js';
import {
  type CollectorOnServices,
  type CollectorProcess,
  startOnServices,
} from './support/collector-process.js';
import { deviceCookie, MINTED_ID, storedId, storedIdBecomes, VISITOR_ID } from './support/demo-page.js';
import { type Exchange, type RequestLog, recordRequests } from './support/request-log.js';

/** One simulated browser: its context and the log of its requests. */
interface Person {
  context: BrowserContext;
  log: RequestLog;
}

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('device identity in Chromium', () => {
  let running: CollectorOnServices;
  let collector: CollectorProcess;
  let pool: BrowserPool;

  beforeAll(async () => {
    running = await startOnServices('e2e_identity', {
      // The networks come in X-Forwarded-For from 127.0.0.1 (an address: a hop count is not honoured).
      TRUST_PROXY: '127.0.0.1',
      RECOVERY_SECRET: 'e2e-recovery-secret-0123456789abcdef01234567',
    });
    collector = running.collector;
    pool = await launchPool();
  });

  afterAll(async () => {
    await pool?.close();
    await running?.close();
  });

  const person = async (address: string): Promise<Person> => {
    const context = await pool.person(address);
    return { context, log: recordRequests(context) };
  };
  const sql = async (text: string, values: unknown[] = []) =>
    (await running.services.database!.client.query(text, values)).rows;
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
  const visit = async (p: Person): Promise<{ page: Page; id: string }> => {
    const page = await p.context.newPage();
    await page.goto(`${collector.url}/demo/`);
    return { page, id: await storedId(page) };
  };
  /** Clears the stores with no page of the demo open (an open page would send its pagehide beacon). */
  const clearStores = async (p: Person, which: { localStorage: boolean; cookies: boolean }) => {
    expect(p.context.pages()).toEqual([]);
    if (which.localStorage) {
      const blank = await p.context.newPage();
      await blank.goto(`${collector.url}/healthz`);
      await blank.evaluate(() => localStorage.clear());
      await blank.close();
    }
    if (which.cookies) await p.context.clearCookies();
  };
  const detailWith = (id: string, what: string, check: (d: DeviceDetail) => boolean) =>
    waitFor(
      async () => {
        const d = await deviceDetail(collector.url, id);
        return check(d) ? d : null;
      },
      { what },
    );

  describe('one browser', () => {
    let alice: Person;
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
      // The fingerprint is evidence of its own: registered (nothing to join on this network yet).
      const sent = await evidence(alice.log);
      expect(JSON.parse(sent.exchange.body!)).toEqual({
        visitorId: expect.stringMatching(VISITOR_ID),
        deviceId,
      });
      expect(sent.status).toBe('received');
      await page.close();

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
      expect(await deviceCookie(alice.context, collector.url)).toBe(deviceId);
      expect(await page.evaluate(() => window.devicelinkDemo!.dl.deviceIdSource())).toBe('cookie');
      await expect.poll(() => page.textContent('#device-how')).toMatch(/cookie/);
      await detailWith(deviceId, 'the yield edge', (d) =>
        d.edges.some(
          (e) => e.kind === 'yield' && e.deviceId === deviceId && e.otherId === minted && !e.inferred,
        ),
      );
      expect(await sql('select distinct device_id from page_views')).toEqual([{ device_id: deviceId }]);
      await screenshot(page, 'identity-1-cookie');
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
      await screenshot(page, 'identity-2-joined');
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
    await cleared.page.close();
    const after = await detailWith(cleared.id, 'the new id persisted', (d) => d.persisted.pageViews > 0);
    expect(after.edges).toEqual([]);
    expect(after.browser.canonicalId).toBe(cleared.id);
    await a.context.close();
    await b.context.close();
  });
});
