/**
 * Logout on a shared computer never hands the next person the previous id (docs/protocol.md, SDK),
 * with the app, its API (running the plugin) and the collector on three origins
 * (support/three-origins.ts). Each case is a browser of its own.
 *
 * The rules: after `reset()`, `forget()` or a re-grant the SDK mints a new id (never fresh), sends it
 * with `X-Device-Replaces: <old id>` on requests with headers until the collector answers one 2xx,
 * never adopts an echo for it, and hands every failure (a failed cookie DELETE too) to `onError`; a
 * host rewrites its `device_fp` cookie to the new id only when the marker equals the cookie on a
 * request that is not simple (a beacon or a text/plain POST never rewrites it).
 */
import { randomBytes } from 'node:crypto';
import { hasServices, waitFor } from '@devicelink/test-env';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Exchange, RequestLog } from './support/request-log.js';
import { cookieAt, currentId, startThreeOrigins, type ThreeOrigins } from './support/three-origins.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))(
  'logout on a shared computer, three origins',
  () => {
    let env: ThreeOrigins;

    beforeAll(async () => {
      env = await startThreeOrigins('e2e_shared_computer', {
        RECOVERY_SECRET: 'e2e-recovery-secret-0123456789abcdef01234567',
      });
    });

    afterAll(async () => {
      await env?.close();
    });

    /** A new browser on the app, holding its first id at both hosts (collector and API cookies). */
    const firstPerson = async () => {
      const v = await env.visitor();
      const id = await waitFor(() => currentId(v.page), { what: 'the first id' });
      expect(await callApi(v.page)).toEqual({ deviceId: id, source: 'header' });
      await waitFor(async () => (await cookieAt(v.context, env.collector)) === id || null, {
        what: 'the collector cookie',
      });
      expect(await cookieAt(v.context, env.api)).toBe(id);
      // The first id's fingerprint evidence goes once the collector answered it: awaited, so that no
      // request of the first person is still to come when a test starts the next one.
      await waitFor(() => v.log.to('/v1/device/fingerprint', { answered: true })[0], {
        what: 'the first id’s fingerprint evidence',
      });
      return { ...v, id };
    };
    const callApi = (page: Page) =>
      page.evaluate(() => window.e2eApp!.api.get('/api/me').then((r) => r.data));
    const newIdAfter = (page: Page, old: string) =>
      waitFor(
        async () => {
          const id = await currentId(page);
          return id && id !== old ? id : null;
        },
        { what: 'the new id' },
      );
    /** Requests that went with a device id, from the first one carrying `id` on. */
    const sentWith = (log: RequestLog, id: string): Exchange[] => {
      const all = log.all.filter((e) => e.method !== 'OPTIONS' && e.headers['x-device-fingerprint']);
      const first = all.findIndex((e) => e.headers['x-device-fingerprint'] === id);
      return first < 0 ? [] : all.slice(first);
    };
    const close = (context: BrowserContext) => context.close();
    /** What left after the logout's own DELETE of `path` (the waiting page views go before it). */
    const afterLogout = (log: RequestLog, path: string): Exchange[] => {
      const at = log.all.findIndex((e) => e.method === 'DELETE' && new URL(e.url).pathname === path);
      expect(at).toBeGreaterThanOrEqual(0);
      return log.all.slice(at + 1).filter((e) => e.method !== 'OPTIONS');
    };
    /** A well-formed id no store has seen (what the SDK mints: 128 random bits, base64url). */
    const unknownId = () => randomBytes(16).toString('base64url');

    test('after reset() the API is sent the new id with X-Device-Replaces, rewrites its cookie to it, and its echo of the old cookie is never adopted', async () => {
      const { context, log, page, id: old } = await firstPerson();
      log.clear();
      expect(await page.evaluate(() => window.e2eApp!.dl.reset())).toEqual({ ok: true });
      const next = await newIdAfter(page, old);

      expect(await callApi(page)).toEqual({ deviceId: next, source: 'header' });
      const [first] = sentWith(log, next);
      expect(first!.headers['x-device-replaces']).toBe(old);
      expect(await cookieAt(context, env.api)).toBe(next);
      expect(await currentId(page)).toBe(next);
      // reset() first sends the page views still waiting (the previous person's); after its own DELETE
      // nothing names the old id.
      for (const e of afterLogout(log, '/v1/device/cookie')) {
        expect(e.headers['x-device-fingerprint'], e.url).not.toBe(old);
      }
      await close(context);
    });

    test('after forget() the old id never travels again, to the collector or to the API, and both hosts end on the new id', async () => {
      const { context, log, page, id: old } = await firstPerson();
      log.clear();
      expect(await page.evaluate(() => window.e2eApp!.dl.forget())).toEqual({ ok: true });
      const next = await newIdAfter(page, old);

      expect(await callApi(page)).toEqual({ deviceId: next, source: 'header' });
      await page.evaluate(() => window.e2eApp!.dl.pageview(`${location.origin}/next-person`));
      await page.evaluate(() => window.e2eApp!.dl.flush());
      const [first] = sentWith(log, next);
      expect(first!.headers['x-device-replaces']).toBe(old);
      for (const e of afterLogout(log, '/v1/device')) {
        expect(e.headers['x-device-fingerprint'], e.url).not.toBe(old);
      }
      await waitFor(async () => (await cookieAt(context, env.collector)) === next || null, {
        what: 'the collector cookie of the new id',
      });
      expect(await cookieAt(context, env.api)).toBe(next);
      expect(await currentId(page)).toBe(next);
      await close(context);
    });

    test('when the cookie DELETE fails, reset() reaches onError and still hands over a new id: the next collector request carries the marker and the collector rewrites its cookie', async () => {
      const { context, log, page, id: old } = await firstPerson();
      // The browser loses the DELETE (as a network error or a CORS refusal would).
      await context.route(`${env.collector}/v1/device/cookie`, (route) => route.abort());
      // An Error crosses page.evaluate as its name and message only: the status is read in the page.
      const result = await page.evaluate(() =>
        window.e2eApp!.dl.reset().then((r) => ('error' in r ? { status: r.error.status } : r)),
      );
      expect(result).toEqual({ status: 0 });
      expect(await page.evaluate(() => window.e2eApp!.errors)).toContainEqual(
        expect.objectContaining({
          name: 'CollectorError',
          message: expect.stringContaining('/v1/device/cookie'),
        }),
      );
      await context.unroute(`${env.collector}/v1/device/cookie`);
      const next = await newIdAfter(page, old);

      log.clear();
      await page.evaluate(() => window.e2eApp!.dl.pageview(`${location.origin}/next-person`));
      await page.evaluate(() => window.e2eApp!.dl.flush());
      const events = await waitFor(() => log.to('/v1/events', { answered: true })[0], {
        what: 'a page view',
      });
      expect(events.headers).toMatchObject({ 'x-device-fingerprint': next, 'x-device-replaces': old });
      expect(events.responseHeaders?.['x-device-fingerprint']).toBe(next);
      expect(await cookieAt(context, env.collector)).toBe(next);
      expect(await currentId(page)).toBe(next);
      await close(context);
    });

    test('withdrawn then granted again: the new id goes with X-Device-Replaces until the collector answers it 2xx, and neither host brings the old id back', async () => {
      const { context, log, page, id: old } = await firstPerson();
      await page.evaluate(() => window.e2eApp!.dl.setConsent('denied'));
      await waitFor(() => log.to('/v1/device/recovery', { answered: true })[0], { what: 'the withdrawal' });
      log.clear();
      await page.evaluate(() => window.e2eApp!.dl.setConsent('granted'));
      const next = await newIdAfter(page, old);

      expect(await callApi(page)).toEqual({ deviceId: next, source: 'header' });
      const [first] = sentWith(log, next);
      expect(first!.headers['x-device-replaces']).toBe(old);
      expect(await cookieAt(context, env.api)).toBe(next);
      // The collector's cookie moves with the first collector request that carries the marker; its 2xx
      // ends the marker (an app API's answer does not: the collector's cookie would stay the old id).
      await page.evaluate(() => window.e2eApp!.dl.pageview(`${location.origin}/after-grant`));
      await page.evaluate(() => window.e2eApp!.dl.flush());
      const answered = await waitFor(() => log.to('/v1/events', { answered: true })[0], {
        what: 'a page view',
      });
      expect(answered.headers).toMatchObject({ 'x-device-fingerprint': next, 'x-device-replaces': old });
      await waitFor(async () => (await cookieAt(context, env.collector)) === next || null, {
        what: 'the collector cookie of the new id',
      });
      log.clear();
      expect(await callApi(page)).toEqual({ deviceId: next, source: 'header' });
      for (const e of sentWith(log, next)) expect(e.headers['x-device-replaces'], e.url).toBeUndefined();
      expect(await currentId(page)).toBe(next);
      await close(context);
    });

    test('the API rewrites its cookie to a new id sent with a marker equal to the cookie', async () => {
      const { context, page, id: old } = await firstPerson();
      // What the SDK sends after a reset: a new id (never fresh), unknown to the store, replacing the
      // cookie's id.
      const next = unknownId();
      const answer = await page.evaluate(
        ([url, id, replaces]) =>
          fetch(url!, {
            credentials: 'include',
            headers: { 'X-Device-Fingerprint': id!, 'X-Device-Replaces': replaces! },
          }).then((r) => r.json()),
        [`${env.api}/api/me`, next, old],
      );
      expect(answer).toEqual({ deviceId: next, source: 'header' });
      expect(await cookieAt(context, env.api)).toBe(next);
      await close(context);
    });

    test('a wrong marker, a beacon carrying one and a simple text/plain POST leave the API cookie unchanged', async () => {
      const { context, page, id: old } = await firstPerson();
      const fresh = unknownId();
      await page.evaluate(
        async ([api, id, wrong, replaces]) => {
          await fetch(`${api}/api/me`, {
            credentials: 'include',
            headers: { 'X-Device-Fingerprint': id!, 'X-Device-Fresh': '1', 'X-Device-Replaces': wrong! },
          });
          const body = JSON.stringify({ deviceId: id, fresh: true, replaces });
          navigator.sendBeacon(`${api}/api/beacon`, body);
          await fetch(`${api}/api/beacon`, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            headers: { 'Content-Type': 'text/plain' },
            body,
          });
        },
        [env.api, fresh, unknownId(), old],
      );
      await waitFor(() => env.apiRequests('/api/beacon').length >= 2 || null, {
        what: 'the beacon and the POST',
      });
      expect(await cookieAt(context, env.api)).toBe(old);
      await close(context);
    });
  },
);
