/**
 * What the insights routes share: their context (database, guard config, security, error answers) and
 * the row limit of their query (their answers' schemas are `@devicelink/protocol/schemas`).
 */
import type { Database } from '@devicelink/persister';
import type { Kysely } from 'kysely';
import type { adminRouteConfig } from '../auth/admin-auth.js';
import type { errorResponses, readSecurity } from '../http/route-schemas.js';

export const limitSchema = {
  type: 'integer',
  minimum: 1,
  maximum: 100,
  description: 'rows per list (default 10)',
};

/** What the insights routes share: the database, the token guard's config, security and errors. */
export interface InsightsRoute {
  db: Kysely<Database>;
  config: ReturnType<typeof adminRouteConfig>;
  security: ReturnType<typeof readSecurity>;
  errors: ReturnType<typeof errorResponses>;
  queryErrors: ReturnType<typeof errorResponses>;
}
