import { waitFor } from '@devicelink/test-env';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deviceId, sendPageviews, useCollector } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const SECRET = 'operations-test-secret-long-enough-0123';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the Prometheus text format (0.0.4): samples, and the TYPE of each family. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.e+-]+|NaN|\+Inf|-Inf))(?: \d+)?$/.exec(
      line,
    );
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('metrics and the OpenAPI document', () => {
  const ctx = useCollector('operations', {
    ADMIN_TOKEN,
    JWT_SECRET: SECRET,
    DEBUG_ROUTES: 'true',
    QUEUE_PARTITIONS: '4',
  });

  it('/metrics parses as Prometheus text with requests, events, queue depth, lag, conversions and Postgres up', async () => {
    const d = deviceId();
    await sendPageviews(ctx.app, d, 3);
    await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        authorization: `Bearer ${signJwt('HS256', claims({ sub: 'metrics-user' }), SECRET)}`,
        'x-device-fingerprint': d,
      },
    });
    await ctx.app.inject({ url: '/nowhere' });
    await waitFor(async () => {
      const { store: queue } = ctx.app.collector.resources;
      for (let p = 0; p < queue.partitions; p++) if ((await queue.depth(p)) > 0) return false;
      return true;
    });
    const res = await ctx.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    // No device work on /metrics.
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    const { samples, types } = parsePrometheus(res.body);
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

    expect(types.get('devicelink_http_requests_total')).toBe('counter');
    expect(
      find('devicelink_http_requests_total', { method: 'POST', route: '/v1/events', status: '202' })?.value,
    ).toBe(1);
    expect(find('devicelink_http_requests_total', { route: 'unmatched', status: '404' })?.value).toBe(1);
    expect(find('devicelink_events_accepted_total', { kind: 'device' })?.value).toBe(3);
    expect(find('devicelink_conversions_total')?.value).toBe(1);
    expect(types.get('devicelink_queue_depth')).toBe('gauge');
    for (const p of ['0', '1', '2', '3'])
      expect(find('devicelink_queue_depth', { partition: p })?.value).toBe(0);
    expect(find('devicelink_persist_lag_seconds')).toBeDefined();
    expect(types.get('devicelink_persist_lag_seconds')).toBe('gauge');
    expect(find('devicelink_postgres_up')?.value).toBe(1);
  });

  it('serves a valid OpenAPI 3 document at /docs/json listing every route', async () => {
    const res = await ctx.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'POST /v1/events',
        'POST /v1/identify',
        'POST /v1/device/fingerprint',
        'DELETE /v1/device/cookie',
        'DELETE /v1/device/recovery',
        'DELETE /v1/device',
        'GET /v1/session',
        'GET /v1/admin/devices/{deviceId}',
        'DELETE /v1/admin/devices/{deviceId}',
        'DELETE /v1/admin/users/{userId}',
        'GET /v1/admin/stats',
        'GET /v1/admin/dead-letters',
        'GET /v1/admin/insights/excluded',
        'POST /v1/admin/dead-letters/replay',
        'GET /v1/admin/insights/timeseries',
        'GET /v1/admin/insights/conversion',
        'GET /v1/admin/insights/paths',
        'GET /v1/admin/insights/top',
        'GET /v1/admin/insights/identity',
        'GET /v1/admin/users/{userId}',
        'GET /v1/admin/users/{userId}/export',
        'GET /v1/admin/export/pageviews',
        'GET /v1/admin/audit',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
    );
    // The unreleased former address is gone: one address for the document.
    expect((await ctx.app.inject({ url: '/openapi.json' })).statusCode).toBe(404);
  });
});
