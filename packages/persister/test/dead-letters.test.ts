import { createMemoryStore, type MemoryStore } from '@devicelink/fastify';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { listDeadLetters, replayDeadLetters } from '../src/dead-letters.js';
import { migrate } from '../src/migrate.js';
import { createPersister } from '../src/persister.js';

describe.runIf(hasServices('postgres'))('dead letters of the persister', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;
  let store: MemoryStore;
  beforeAll(async () => {
    database = await createTestDatabase('deadletters');
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
    store = createMemoryStore({ partitions: 2 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.close();
    await database?.drop();
  });

  it('an entry refused by a rule of the database is dead-lettered with the reason, and lands once replayed after the rule is fixed', async () => {
    // The cause: a rule the operator added that refuses some URLs.
    await sql`alter table page_views add constraint no_blocked check (url not like '/blocked%')`.execute(
      db.db,
    );
    const d = `dev-${uuidv7().replace(/-/g, '')}`;
    const [kept, blocked] = [uuidv7(), uuidv7()];
    await store.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      events: [
        { type: 'pageview', url: '/ok', referrer: null, id: kept, clientTs: null },
        { type: 'pageview', url: '/blocked', referrer: null, id: blocked, clientTs: null },
      ],
    });
    const persister = createPersister({ db: db.db, queue: store, onError: () => {} });
    expect(await persister.runOnce()).toBe(2);
    const page = await listDeadLetters(db.db, { limit: 10 });
    expect(page.deadLetters).toHaveLength(1);
    expect(page.deadLetters[0]!.error).toContain('no_blocked');
    expect(page.deadLetters[0]!.record).toMatchObject({ eventId: blocked, url: '/blocked' });

    const early = await replayDeadLetters(db.db, { refs: null, limit: 10 });
    expect(early.replayed).toEqual([]);
    expect(early.failed[0]!.error).toContain('no_blocked');

    await sql`alter table page_views drop constraint no_blocked`.execute(db.db);
    const done = await replayDeadLetters(db.db, { refs: null, limit: 10 });
    expect(done.replayed).toHaveLength(1);
    expect((await listDeadLetters(db.db, { limit: 10 })).deadLetters).toEqual([]);
    const sessions = await db.db
      .selectFrom('sessions')
      .select('page_views')
      .where('device_id', '=', d)
      .execute();
    expect(sessions).toEqual([{ page_views: 2 }]);
    await persister.stop();
  });
});
