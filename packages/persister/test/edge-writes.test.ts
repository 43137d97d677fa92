/**
 * Edges in Postgres (docs/protocol.md, Edges): stored as observed; a revocation or a withdrawal may
 * arrive before the edge it concerns (another partition), and the outcome is the same in any order.
 */
import { type QueueEntry, type QueueRecord, uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';

const device = () => `dev-${uuidv7().replace(/-/g, '')}`;

let seq = 0;
/** One pass of one partition holding `records`. */
const pass = (...records: QueueRecord[]) => [
  {
    partition: 0,
    entries: records.map((record): QueueEntry => ({ partition: 0, id: `0-${++seq}`, record })),
  },
];

describe.runIf(hasServices('postgres'))('edges in Postgres', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;
  beforeAll(async () => {
    database = await createTestDatabase('persister_edges');
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  const edgesOf = (id: string) =>
    db.db
      .selectFrom('device_edges')
      .select(['device_id', 'other_id', 'kind'])
      .where((eb) => eb.or([eb('device_id', '=', id), eb('other_id', '=', id)]))
      .orderBy('kind')
      .execute();
  const revokedUntil = async (id: string) =>
    (
      await db.db
        .selectFrom('fingerprint_revocations')
        .select('revoked_until')
        .where('device_id', '=', id)
        .executeTakeFirst()
    )?.revoked_until.getTime() ?? null;

  it('stores cookie, yield and join edges once per pair and kind, with the earliest time', async () => {
    const [a, b] = [device(), device()];
    const t = Date.now();
    await writePass(
      db.db,
      pass(
        { kind: 'edge', edge: 'cookie', deviceId: a, otherId: b, ts: t + 5 },
        { kind: 'edge', edge: 'cookie', deviceId: a, otherId: b, ts: t },
        { kind: 'edge', edge: 'yield', deviceId: b, otherId: a, ts: t },
        { kind: 'edge', edge: 'join', deviceId: a, otherId: b, ts: t },
      ),
      30,
    );
    await writePass(db.db, pass({ kind: 'edge', edge: 'cookie', deviceId: a, otherId: b, ts: t - 10 }), 30);
    expect(await edgesOf(a)).toEqual([
      { device_id: a, other_id: b, kind: 'cookie' },
      { device_id: a, other_id: b, kind: 'join' },
      { device_id: b, other_id: a, kind: 'yield' },
    ]);
    const first = await db.db
      .selectFrom('device_edges')
      .select('first_seen')
      .where('device_id', '=', a)
      .where('kind', '=', 'cookie')
      .executeTakeFirstOrThrow();
    expect(first.first_seen.getTime()).toBe(t - 10);
  });

  it('a revocation that arrives before its join is kept, and the later revocation time wins', async () => {
    const [claimant, owner] = [device(), device()];
    const t = Date.now();
    await writePass(db.db, pass({ kind: 'unjoin', deviceId: owner, ts: t + 1 }), 30);
    await writePass(
      db.db,
      pass({ kind: 'edge', edge: 'join', deviceId: claimant, otherId: owner, ts: t }),
      30,
    );
    // The edge is stored as observed; the revocation covers it (join time <= revoked_until).
    expect(await edgesOf(owner)).toEqual([{ device_id: claimant, other_id: owner, kind: 'join' }]);
    expect(await revokedUntil(owner)).toBe(t + 1);
    await writePass(db.db, pass({ kind: 'unjoin', deviceId: owner, ts: t - 100 }), 30);
    expect(await revokedUntil(owner)).toBe(t + 1);
  });

  it('withdrawn consent deletes the edges naming the device both ways and drops ones arriving later', async () => {
    const [d, other, third] = [device(), device(), device()];
    const t = Date.now();
    await writePass(
      db.db,
      pass(
        { kind: 'edge', edge: 'cookie', deviceId: d, otherId: other, ts: t },
        { kind: 'edge', edge: 'join', deviceId: third, otherId: d, ts: t },
      ),
      30,
    );
    await writePass(db.db, pass({ kind: 'forget-edges', deviceId: d, ts: t + 10 }), 30);
    expect(await edgesOf(d)).toEqual([]);
    // A join queued before the withdrawal in another partition, arriving after it: dropped.
    await writePass(db.db, pass({ kind: 'edge', edge: 'join', deviceId: other, otherId: d, ts: t + 5 }), 30);
    expect(await edgesOf(d)).toEqual([]);
    // An edge made after the withdrawal is the browser's new life: kept.
    await writePass(
      db.db,
      pass({ kind: 'edge', edge: 'cookie', deviceId: d, otherId: other, ts: t + 20 }),
      30,
    );
    expect(await edgesOf(d)).toEqual([{ device_id: d, other_id: other, kind: 'cookie' }]);
  });

  it('erasure deletes every edge naming the device and its revocations', async () => {
    const [d, other] = [device(), device()];
    const t = Date.now();
    await writePass(
      db.db,
      pass(
        { kind: 'edge', edge: 'join', deviceId: other, otherId: d, ts: t },
        { kind: 'unjoin', deviceId: d, ts: t + 1 },
        { kind: 'erase', deviceId: d, ts: t + 2 },
      ),
      30,
    );
    expect(await edgesOf(d)).toEqual([]);
    expect(await revokedUntil(d)).toBeNull();
  });
});
