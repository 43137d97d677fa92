import { createDb, migrate, migrationProvider } from '@devicelink/persister';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices, waitFor } from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import { Migrator } from 'kysely';
import { collector, deviceId, tempDataDir } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';
import { serviceEnv } from './support/service-env.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123';

const post = (app: FastifyInstance, headers: Record<string, string>, ids: string[]) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers,
    payload: { events: ids.map((id) => ({ type: 'pageview', url: '/p', id })) },
  });

describe.runIf(hasServices('redis', 'postgres'))(
  'the page-view table behind collectors on Redis and Postgres',
  () => {
    test('the same event id from two devices and a user gives three rows; the nil UUID is a 400', async ({
      services,
      cleanup,
    }) => {
      const data = tempDataDir();
      cleanup(() => data.remove());
      const app = await collector(serviceEnv(services, { JWT_SECRET: SECRET, DATA_DIR: data.dir }));
      cleanup(() => app.close());
      const id = uuidv7();
      const [a, b] = [deviceId(), deviceId()];
      const senders: Record<string, string>[] = [
        { 'x-device-fingerprint': a },
        { 'x-device-fingerprint': b },
        { authorization: `Bearer ${signJwt('HS256', claims({ sub: 'user-7' }), SECRET)}` },
      ];
      for (const headers of senders) {
        const res = await post(app, headers, [id]);
        expect(res.statusCode).toBe(202);
        expect(res.json().accepted).toBe(1);
      }
      const nil = await post(app, { 'x-device-fingerprint': a }, ['00000000-0000-0000-0000-000000000000']);
      expect(nil.statusCode).toBe(400);
      expect(nil.json().message).toContain('nil UUID');
      const client = services.database!.client;
      const rows = await waitFor(
        async () => {
          const r = await client.query(
            'select device_id, user_id from page_views where event_id = $1 order by device_id nulls last',
            [id],
          );
          return r.rows.length === 3 ? r.rows : null;
        },
        { what: 'three rows', timeoutMs: 30_000 },
      );
      const [first, second] = [a, b].sort();
      expect(rows).toEqual([
        { device_id: first, user_id: null },
        { device_id: second, user_id: null },
        { device_id: null, user_id: 'user-7' },
      ]);
    });

    test('events accepted before, during and after the table migration land once each: 0 lost, 0 duplicated', async ({
      services,
      cleanup,
    }) => {
      const client = services.database!.client;
      const target = await createDb({ databaseUrl: services.database!.url, dataDir: '/nonexistent' });
      cleanup(() => target.close());
      const migrator = new Migrator({ db: target.db, provider: migrationProvider });
      expect((await migrator.migrateTo('2026-12-01T02-00-00-link-ended-session')).error).toBeUndefined();
      // A table worth copying: the migration takes a moment while events keep arriving.
      await client.query(`
      insert into page_views (event_id, device_id, url, server_ts)
      select lpad(to_hex(g), 32, '0')::uuid, 'seed-' || (g % 1000), '/seed', now()
      from generate_series(1, 100000) as g`);

      // Collectors still running the old version only ingest meanwhile (their database is another).
      const scratch = await createTestDatabase('pvingest');
      cleanup(() => scratch.drop());
      const ingestData = tempDataDir();
      cleanup(() => ingestData.remove());
      const ingest = await collector(
        serviceEnv(services, { DATABASE_URL: scratch.url, PERSISTER: 'off', DATA_DIR: ingestData.dir }),
      );
      cleanup(() => ingest.close());

      const devices = Array.from({ length: 10 }, deviceId);
      const accepted: Array<{ device: string; id: string }> = [];
      const send = async () => {
        await Promise.all(
          devices.map(async (device) => {
            const ids = [uuidv7(), uuidv7()];
            const res = await post(ingest, { 'x-device-fingerprint': device }, ids);
            expect(res.statusCode).toBe(202);
            expect(res.json().accepted).toBe(2);
            for (const id of ids) accepted.push({ device, id });
          }),
        );
      };
      await send();
      // Some were persisted by the old version and never acknowledged (a crash between commit and ack):
      // the queue delivers them again after the migration.
      for (const { device, id } of accepted.slice(0, 6)) {
        await client.query(
          'insert into page_views (event_id, device_id, url, server_ts) values ($1, $2, $3, now())',
          [id, device, '/p'],
        );
      }
      let sending = true;
      const during = (async () => {
        while (sending) await send();
      })();
      const applied = await migrate(target.db);
      sending = false;
      await during;
      await send();
      expect(applied).toEqual(await migrationsFrom('2026-12-01T02-00-01-page-views-by-subject-and-id-time'));

      // The upgraded collector persists the queue.
      const data = tempDataDir();
      cleanup(() => data.remove());
      const upgraded = await collector(serviceEnv(services, { DATA_DIR: data.dir }));
      cleanup(() => upgraded.close());
      const rowsOf = async () =>
        (
          await client.query<{ device_id: string; event_id: string; n: number }>(
            `select device_id, event_id::text, count(*)::int as n from page_views
           where device_id = any($1) group by device_id, event_id`,
            [devices],
          )
        ).rows;
      const rows = await waitFor(
        async () => {
          const r = await rowsOf();
          return r.length >= accepted.length ? r : null;
        },
        { what: `${accepted.length} accepted page views`, timeoutMs: 60_000 },
      );
      expect(rows.filter((r) => r.n > 1)).toEqual([]);
      expect(rows.map((r) => `${r.device_id}/${r.event_id}`).sort()).toEqual(
        accepted.map((a) => `${a.device}/${a.id}`).sort(),
      );
      const seeded = await client.query(`select count(*)::int as n from page_views where url = '/seed'`);
      expect(seeded.rows[0].n).toBe(100_000);
    });
  },
);

/** The names of every migration from `first` on, in the order the Migrator applies them. */
async function migrationsFrom(first: string): Promise<string[]> {
  const names = Object.keys(await migrationProvider.getMigrations()).sort();
  return names.slice(names.indexOf(first));
}
