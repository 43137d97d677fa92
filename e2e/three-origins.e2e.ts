/**
 * The SDK in Chromium with the app, its API (running the plugin, CORS through `corsOptions()`) and the
 * collector on three origins (support/three-origins.ts), through a first visit, login, `reset()`,
 * `forget()`, consent withdrawal and re-grant. Every cross-origin request passes CORS: the DELETEs of
 * reset, forget and withdrawal pass their preflight, reach the collector and answer 204; withdrawal
 * clears both hosts' cookies. What the app's API does with its own cookie after a reset or forget is
 * the subject of shared-computer.e2e.ts.
 */
import { hasServices, waitFor } from '@devicelink/test-env';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deviceDetail } from './support/admin-api.js';
import { MINTED_ID } from './support/demo-page.js';
import type { Exchange, RequestLog } from './support/request-log.js';
import { cookieAt, currentId, startThreeOrigins, type ThreeOrigins } from './support/three-origins.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))(
  'the SDK with app, API and collector on three origins',
  () => {
    let env: ThreeOrigins;
    let context: BrowserContext;
    let log: RequestLog;
    let page: Page;
    /** Every id this browser held, oldest first. */
    const ids: string[] = [];

    beforeAll(async () => {
      env = await startThreeOrigins('e2e_three_origins', {
        RECOVERY_SECRET: 'e2e-recovery-secret-0123456789abcdef01234567',
      });
      ({ context, log, page } = await env.visitor());
    });

    afterAll(async () => {
      await context?.close();
      await env?.close();
    });

    const atCollector = (path: string) =>
      waitFor(() => log.to(path, { answered: true }).find((e) => e.url.startsWith(env.collector)), {
        what: `the answer of ${path}`,
      });
    const callApi = () => page.evaluate(() => window.e2eApp!.api.get('/api/me').then((r) => r.data));
    /** The SDK's id once it differs from every earlier one. */
    const nextId = () =>
      waitFor(
        async () => {
          const id = await currentId(page);
          return id && !ids.includes(id) ? id : null;
        },
        { what: 'a new id' },
      );
    const expectDeleted = (e: Exchange, id: string | null) => {
      expect(e.method).toBe('DELETE');
      expect(e.status).toBe(204);
      expect(e.headers.origin).toBe(env.app);
      expect(e.responseHeaders?.['access-control-allow-origin']).toBe(env.app);
      if (id) expect(e.headers['x-device-fingerprint']).toBe(id);
    };

    test('the collector and the API answer the preflight of a DELETE with the SDK headers from the app origin', async () => {
      for (const [base, path] of [
        [env.local.collector, '/v1/device/cookie'],
        [env.local.collector, '/v1/device'],
        [env.local.collector, '/v1/device/recovery'],
        [env.local.api, '/api/me'],
      ] as const) {
        // The preflight as the browser sends it for the SDK's DELETEs.
        const res = await fetch(`${base}${path}`, {
          method: 'OPTIONS',
          headers: {
            origin: env.app,
            'access-control-request-method': 'DELETE',
            'access-control-request-headers': 'x-device-fingerprint,x-device-fresh,x-device-replaces',
          },
        });
        expect(res.status, path).toBe(204);
        expect(res.headers.get('access-control-allow-origin'), path).toBe(env.app);
        expect(res.headers.get('access-control-allow-methods'), path).toContain('DELETE');
        expect(res.headers.get('access-control-allow-credentials'), path).toBe('true');
      }
    });

    test('on a first visit the id goes to the collector and to the API, and each host keeps it in a cookie of its own', async () => {
      const id = await nextId();
      ids.push(id);
      expect(id).toMatch(MINTED_ID);
      const pageview = await atCollector('/v1/events');
      expect(pageview.headers['x-device-fingerprint']).toBe(id);
      expect(pageview.status).toBe(202);
      expect(pageview.responseHeaders?.['access-control-allow-origin']).toBe(env.app);
      expect(await callApi()).toEqual({ deviceId: id, source: 'header' });
      await waitFor(async () => (await cookieAt(context, env.collector)) === id || null, {
        what: 'the collector cookie',
      });
      expect(await cookieAt(context, env.api)).toBe(id);
    });

    test('login: identify goes to the collector with the token and the id, and links the device', async () => {
      const linked = await page.evaluate(() => window.e2eApp!.logIn('alice'));
      expect(linked).toMatchObject({ userId: 'alice', deviceId: ids[0] });
      const identify = await atCollector('/v1/identify');
      expect(identify.headers.authorization).toMatch(/^Bearer /);
      expect(identify.status).toBe(200);
      const detail = await waitFor(
        async () => {
          const d = await deviceDetail(env.local.collector, ids[0]!);
          return d.links.length > 0 ? d : null;
        },
        { what: 'the link in Postgres' },
      );
      expect(detail.links.map((l) => l.userId)).toEqual(['alice']);
      await page.evaluate(() => window.e2eApp!.logOut());
    });

    test('reset() at logout: the cookie DELETE passes CORS and answers 204, the collector cookie is cleared, and a new id is minted', async () => {
      log.clear();
      expect(await page.evaluate(() => window.e2eApp!.dl.reset())).toEqual({ ok: true });
      const cleared = await atCollector('/v1/device/cookie');
      expectDeleted(cleared, null);
      expect(cleared.responseHeaders?.['set-cookie']).toMatch(/device_fp=;.*Max-Age=0/i);
      ids.push(await nextId());
      expect(await cookieAt(context, env.collector)).not.toBe(ids[0]);
    });

    test('forget(): the erasure and the cookie DELETE pass CORS and answer 204, and a new id is minted', async () => {
      const forgotten = (await currentId(page))!;
      log.clear();
      expect(await page.evaluate(() => window.e2eApp!.dl.forget())).toEqual({ ok: true });
      expectDeleted(await atCollector('/v1/device'), forgotten);
      expectDeleted(await atCollector('/v1/device/cookie'), null);
      ids.push(await nextId());
      expect(await cookieAt(context, env.collector)).toBeUndefined();
    });

    test('withdrawal: the recovery DELETE passes CORS and answers 204 with the old id, and both hosts clear their cookie', async () => {
      // A page view with the current id first, so the collector holds a cookie to clear.
      const current = (await currentId(page))!;
      await page.evaluate(() => window.e2eApp!.dl.pageview(`${location.origin}/before-withdrawal`));
      await page.evaluate(() => window.e2eApp!.dl.flush());
      await waitFor(async () => (await cookieAt(context, env.collector)) === current || null, {
        what: 'the collector cookie of the current id',
      });
      log.clear();
      await page.evaluate(() => window.e2eApp!.dl.setConsent('denied'));
      expectDeleted(await atCollector('/v1/device/recovery'), current);
      expect(await currentId(page)).toBeNull();
      await waitFor(async () => (await cookieAt(context, env.collector)) === undefined || null, {
        what: 'the collector cookie cleared',
      });
      // The app's next API request says so, and the API clears its cookie too.
      expect(await callApi()).toEqual({ deviceId: null, source: null });
      const denied = await waitFor(
        () => log.to('/api/me', { answered: true }).find((e) => e.method === 'GET'),
        {
          what: 'the API request under denied consent',
        },
      );
      expect(denied.headers['x-device-consent']).toBe('denied');
      expect(denied.headers['x-device-fingerprint']).toBeUndefined();
      expect(await cookieAt(context, env.api)).toBeUndefined();
    });

    test('re-grant: a new id, never an earlier one, goes to the collector and to the API, and no failure reached onError', async () => {
      await page.evaluate(() => window.e2eApp!.dl.setConsent('granted'));
      const id = await nextId();
      ids.push(id);
      expect(await callApi()).toEqual({ deviceId: id, source: 'header' });
      expect(await cookieAt(context, env.api)).toBe(id);
      await page.evaluate(() => window.e2eApp!.dl.pageview(`${location.origin}/after-regrant`));
      await page.evaluate(() => window.e2eApp!.dl.flush());
      await waitFor(async () => (await cookieAt(context, env.collector)) === id || null, {
        what: 'the collector cookie of the new id',
      });
      expect(new Set(ids).size).toBe(ids.length);
      expect(await page.evaluate(() => window.e2eApp!.errors)).toEqual([]);
    });
  },
);
