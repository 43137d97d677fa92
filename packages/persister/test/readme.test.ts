/**
 * The persister README's first example, run as written: a persister process on Redis and Postgres that
 * writes what an app queued, then stops on its signal after draining. The README shows this file's code
 * (`persister-process.example.ts`, type-checked with the package's tests); the first test keeps the two
 * the same.
 */
import { readFileSync } from 'node:fs';
import { createRedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { createTestDatabase, hasServices, testEnv, uniquePrefix, waitFor } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { runPersister } from './persister-process.example.js';
import { device, pageview } from './queue-records.js';

const readme = new URL('../README.md', import.meta.url);
const example = new URL('./persister-process.example.ts', import.meta.url);

describe('the persister README', () => {
  it('shows persister-process.example.ts verbatim as its first example', () => {
    const first = /```ts\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
    expect(first).toBe(readFileSync(example, 'utf8'));
  });

  it.runIf(hasServices('redis', 'postgres'))(
    'runs: what an app queued lands in Postgres, and the signal stops it',
    async () => {
      const prefix = uniquePrefix('persister-readme');
      const database = await createTestDatabase('persister_readme');
      const redis = new Redis(testEnv.redisUrl!);
      const stop = new AbortController();
      const running = runPersister(testEnv.redisUrl!, database.url, prefix, stop.signal);
      try {
        // An app writing the same queue: same prefix, same partition count.
        const app = await createRedisStore(redis, { prefix, partitions: 64 });
        const records = [device(), device()].map((d) => pageview(d, null, Date.now()));
        for (const r of records) await appendForTest(app, r.deviceId!, [r]);
        const pg = new Client({ connectionString: database.url });
        await pg.connect();
        try {
          await waitFor(
            async () => {
              const { rows } = await pg
                .query<{ n: number }>(
                  'select count(*)::int as n from page_views where event_id = any($1::uuid[])',
                  [records.map((r) => r.eventId)],
                )
                .catch(() => ({ rows: [{ n: 0 }] })); // before the migration made the table
              return rows[0]!.n === records.length || null;
            },
            { what: 'the queued page views in Postgres' },
          );
        } finally {
          await pg.end();
        }
        stop.abort();
        await running;
      } finally {
        stop.abort();
        await running.catch(() => {});
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
