/**
 * The fastify README's first example, run as written: a Fastify app with @devicelink/fastify on Redis
 * and @devicelink/persister on Postgres, no collector, and its page views land in Postgres. The README
 * shows this file's code; the first test keeps the two the same.
 */
import { readFileSync } from 'node:fs';
import { createTestDatabase, hasServices, testEnv, uniquePrefix, waitFor } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { buildHostApp } from './host-app.example.js';

const readme = new URL('../../fastify/README.md', import.meta.url);
const example = new URL('./host-app.example.ts', import.meta.url);

describe('the host-app example of the fastify README', () => {
  it('is the README’s first example, verbatim', () => {
    const first = /```ts\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
    expect(first).toBe(readFileSync(example, 'utf8'));
  });

  it.runIf(hasServices('redis', 'postgres'))(
    'persists the page views of a host app without the collector',
    async () => {
      const prefix = uniquePrefix('host-app');
      const database = await createTestDatabase('host_app');
      const redis = new Redis(testEnv.redisUrl!);
      try {
        const app = await buildHostApp(testEnv.redisUrl!, database.url, prefix);
        const deviceId = 'hostApp_0123456789abcdef';
        // A reset link's token and an email never reach Postgres; the allowlisted utm_* stays.
        for (const url of [
          'https://shop.example/',
          'https://shop.example/cart?token=secret&email=a@b.c&utm_source=news#x',
        ]) {
          const res = await app.inject({
            method: 'POST',
            url: '/pageview',
            headers: { 'x-device-fingerprint': deviceId },
            payload: { url },
          });
          expect(res.statusCode).toBe(202);
          expect(res.json()).toMatchObject({ tracked: true, deviceId, accepted: 1 });
        }
        // The route's schema refuses what is no http(s) URL or path before track() sees it.
        const refused = await app.inject({
          method: 'POST',
          url: '/pageview',
          headers: { 'x-device-fingerprint': deviceId },
          payload: { url: 'javascript:alert(1)' },
        });
        expect(refused.statusCode).toBe(400);
        const pg = new Client({ connectionString: database.url });
        await pg.connect();
        try {
          const rows = await waitFor(
            async () => {
              const { rows } = await pg.query<{ url: string }>(
                'select url from page_views where device_id = $1 order by server_ts',
                [deviceId],
              );
              return rows.length === 2 ? rows : null;
            },
            { what: 'the page views in Postgres' },
          );
          expect(rows.map((r) => r.url)).toEqual([
            'https://shop.example/',
            'https://shop.example/cart?utm_source=news',
          ]);
        } finally {
          await pg.end();
        }
        await app.close();
      } finally {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
        await redis.quit();
        await database.drop();
      }
    },
  );
});
