import { describe, expect, test } from '../src/fixtures.js';
import { databasesLike, hasServices, scanKeys } from '../src/index.js';

describe.runIf(hasServices('redis', 'postgres'))('the service fixtures', () => {
  let seen: { prefix: string; database: string } | undefined;

  test('a test gets a fresh prefix and database', async ({ services }) => {
    await services.redis!.set(`${services.prefix}k`, '1');
    const { rows } = await services.database!.client.query('select current_database() as d');
    seen = { prefix: services.prefix, database: rows[0].d };
    expect(services.prefix).toMatch(/^dl:t-[a-z0-9]+-test-[0-9a-f]{8}:$/);
  });

  test('after it its keys are deleted and its database dropped', async ({ fileServices }) => {
    expect(await scanKeys(fileServices.redis!, `${seen!.prefix}*`)).toEqual([]);
    expect(await databasesLike(seen!.database)).toEqual([]);
  });
});
