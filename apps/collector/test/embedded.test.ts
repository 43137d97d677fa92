import { waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  collector,
  deviceId,
  eventsBody,
  sendPageviews,
  tempDataDir,
  useCollector,
} from './support/collector.js';

describe('the collector on embedded defaults (memory store + PGlite)', () => {
  const ctx = useCollector('embedded', { ADMIN_TOKEN, DEBUG_ROUTES: 'true' }, 'embedded');

  it('answers a page view with 202, the device header and the cookie', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/events', payload: eventsBody(1) });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 1, tracked: true });
    expect(res.headers['x-device-fingerprint']).toBe(body.deviceId);
    expect(String(res.headers['set-cookie'])).toContain(`device_fp=${body.deviceId}`);
  });

  it('persists page views to PGlite and shows them in the admin detail', async () => {
    const id = deviceId();
    const res = await sendPageviews(ctx.app, id, 3);
    expect(res.statusCode).toBe(202);
    const detail = await waitFor(async () => {
      const r = await ctx.app.inject({
        url: `/v1/admin/devices/${id}`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const json = r.json();
      return json.persisted?.pageViews === 3 ? json : null;
    });
    expect(detail.liveSession).toMatchObject({ deviceId: id, pagesVisited: 3 });
    expect(detail.persisted.sessions).toHaveLength(1);
  });
});

describe('embedded data across restarts', () => {
  it('keeps persisted page views across a restart and refuses a second collector on the same DATA_DIR', async () => {
    const data = tempDataDir();
    try {
      const id = deviceId();
      const first = await collector({ DATA_DIR: data.dir, ADMIN_TOKEN });
      await expect(collector({ DATA_DIR: data.dir })).rejects.toThrow(/DATA_DIR/);
      await sendPageviews(first, id, 2);
      const detail = (app: FastifyInstance) =>
        app
          .inject({ url: `/v1/admin/devices/${id}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
          .then((r) => r.json());
      await waitFor(async () => (await detail(first)).persisted.pageViews === 2, { timeoutMs: 60_000 });
      await first.close();
      const second = await collector({ DATA_DIR: data.dir, ADMIN_TOKEN });
      try {
        expect((await detail(second)).persisted.pageViews).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      data.remove();
    }
  });

  it('a restarted embedded collector continues the live session: same sessionId, pagesVisited going on', async () => {
    const data = tempDataDir();
    try {
      const id = deviceId();
      const view = (app: FastifyInstance, n: number) =>
        app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { 'x-device-fingerprint': id },
          payload: eventsBody(n),
        });
      const first = await collector({ DATA_DIR: data.dir, ADMIN_TOKEN });
      const before = (await view(first, 2)).json();
      await first.close();
      const second = await collector({ DATA_DIR: data.dir, ADMIN_TOKEN });
      try {
        const after = (await view(second, 1)).json();
        expect(after.sessionId).toBe(before.sessionId);
        const detail = await second.inject({
          url: `/v1/admin/devices/${id}`,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        expect(detail.json().liveSession).toMatchObject({ sessionId: before.sessionId, pagesVisited: 3 });
      } finally {
        await second.close();
      }
    } finally {
      data.remove();
    }
  });
});
