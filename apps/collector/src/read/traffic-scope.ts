/**
 * Which traffic a read counts (docs/protocol.md, Bots and automation): `human` (the default: sessions
 * and page views whose stored class is `human`) or `all` (`?traffic=all`, every class, for audits).
 * The class is read from the rows at query time, so a reclassification or an allow-listed user agent
 * changes every figure at once.
 */
import { type RawBuilder, sql } from 'kysely';
import { InvalidQueryError } from '../http/errors.js';

/** What a read counts. */
export type TrafficScope = 'human' | 'all';

/** JSON schema of the `traffic` query parameter, for the routes' OpenAPI. */
export const trafficQuerySchema = {
  traffic: {
    type: 'string',
    enum: ['human', 'all'],
    description:
      '`human` (default): sessions and page views whose stored class is human; `all`: bots, automation and fleets too.',
  },
} as const;

/** The `traffic` parameter: `human` when absent. */
export function parseTrafficScope(query: { traffic?: unknown }): TrafficScope {
  const value = query.traffic;
  if (value === undefined || value === 'human') return 'human';
  if (value === 'all') return 'all';
  throw new InvalidQueryError('traffic must be human or all');
}

/**
 * SQL: `and <column> = 'human'` for the human scope, nothing for all. `column` is trusted SQL (a
 * column reference written in this codebase).
 *
 * @example
 * sql`select count(*) from sessions as s where s.first_seen >= ${from} ${trafficFilter(scope, 's.traffic_class')}`
 */
export function trafficFilter(scope: TrafficScope, column = 'traffic_class'): RawBuilder<unknown> {
  return scope === 'all' ? sql`` : sql`and ${sql.ref(column)} = 'human'`;
}
