/**
 * `GET /v1/admin/dead-letters` and `POST /v1/admin/dead-letters/replay`, registered only with
 * `ADMIN_TOKEN`: the queue entries Postgres refused on their own, with the reason, page by page; and
 * their replay once the cause is fixed, once by event id (see `@devicelink/persister`'s
 * `replayDeadLetters`). 503 when Postgres cannot be reached (a replay may be repeated: it is idempotent).
 */

import type { Database } from '@devicelink/persister';
import { type DeadLetterRef, listDeadLetters, replayDeadLetters } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { fromDatabase } from '../http/from-database.js';
import { adminSecurity, errorResponses } from '../http/route-schemas.js';
import { deadLetterCount } from '../read/dead-letter-count.js';

/** Options of {@link adminDeadLettersRoutes}. */
export interface AdminDeadLettersRouteOptions extends AdminRouteGuards {
  db: Kysely<Database>;
  /** `CONVERSION_LOOKBACK_DAYS`: a replayed link converts as the persister's would. */
  lookbackDays: number;
}

/**
 * A dead letter's entry id is the Redis stream id of its queue entry (`<ms>-<seq>`). Anything else
 * names no row, and some of it (a NUL, which Postgres text cannot hold) made Postgres refuse the
 * query: the answer was a 503 "database unavailable" (found by the fuzz run, bench fuzz).
 */
const ENTRY_ID = '\\d{1,20}-\\d{1,20}';
/** Partitions are 0 to QUEUE_PARTITIONS - 1 (at most 16,384): larger values overflowed `integer`. */
const MAX_PARTITION = 16_383;
/** A cursor is `<partition>:<entry id>` of the last dead letter of the previous page. */
const CURSOR = new RegExp(`^(\\d{1,5}):(${ENTRY_ID})$`);
const MAX_PAGE = 500;
const MAX_REPLAY = 1_000;

const refSchema = {
  type: 'object',
  properties: {
    partition: { type: 'integer', minimum: 0, maximum: MAX_PARTITION },
    entryId: { type: 'string', maxLength: 41, pattern: `^${ENTRY_ID}$` },
  },
  required: ['partition', 'entryId'],
  additionalProperties: false,
} as const;

const cursorOf = (ref: DeadLetterRef | null) => (ref ? `${ref.partition}:${ref.entryId}` : null);

/** Registers the dead-letter routes behind the admin token (own scope). */
export async function adminDeadLettersRoutes(
  app: FastifyInstance,
  options: AdminDeadLettersRouteOptions,
): Promise<void> {
  adminGuard(app, options);
  deadLettersListRoute(app, options);
  deadLettersReplayRoute(app, options);
}

/** `GET /v1/admin/dead-letters`: a page of dead letters. */
function deadLettersListRoute(app: FastifyInstance, options: AdminDeadLettersRouteOptions): void {
  app.get<{ Querystring: { limit?: number; after?: string } }>(
    '/v1/admin/dead-letters',
    {
      config: adminRouteConfig(options),
      schema: {
        description:
          'Queue entries Postgres refused on their own, in queue order, with the reason; `next` is the cursor of the following page (null: none left).',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
            after: { type: 'string', pattern: CURSOR.source, description: '`next` of the previous page' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              deadLetters: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    partition: { type: 'integer' },
                    entryId: { type: 'string' },
                    error: { type: 'string' },
                    failedAt: { type: 'string', format: 'date-time' },
                    record: { description: 'The queue record (its raw text if it does not parse).' },
                  },
                  required: ['partition', 'entryId', 'error', 'failedAt', 'record'],
                },
              },
              next: { type: ['string', 'null'] },
            },
            required: ['deadLetters', 'next'],
          },
          ...errorResponses(400, ...guardStatuses(options), 429, 503),
        },
        security: adminSecurity,
      },
    },
    async (request) => {
      const { limit = 50, after } = request.query;
      const m = after === undefined ? null : CURSOR.exec(after);
      const page = await fromDatabase(() =>
        listDeadLetters(options.db, { limit, after: m ? { partition: Number(m[1]), entryId: m[2]! } : null }),
      );
      return {
        deadLetters: page.deadLetters.map((d) => ({ ...d, failedAt: d.failedAt.toISOString() })),
        next: cursorOf(page.next),
      };
    },
  );
}

/** `POST /v1/admin/dead-letters/replay`: writes dead letters again. */
function deadLettersReplayRoute(app: FastifyInstance, options: AdminDeadLettersRouteOptions): void {
  app.post<{ Body: { entries?: DeadLetterRef[]; limit?: number } | undefined }>(
    '/v1/admin/dead-letters/replay',
    {
      config: adminRouteConfig(options),
      schema: {
        description:
          'Writes dead letters again, after their cause is fixed: the `entries` named, or else the first `limit` in queue order. ' +
          'Each lands once by its subject and event id; one refused again stays, with the new reason.',
        body: {
          type: 'object',
          properties: {
            entries: { type: 'array', items: refSchema, maxItems: MAX_REPLAY },
            limit: { type: 'integer', minimum: 1, maximum: MAX_REPLAY, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              replayed: { type: 'array', items: refSchema },
              failed: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { ...refSchema.properties, error: { type: 'string' } },
                  required: ['partition', 'entryId', 'error'],
                },
              },
              remaining: { type: 'integer', description: 'Dead letters left after the replay.' },
            },
            required: ['replayed', 'failed', 'remaining'],
          },
          ...errorResponses(400, ...guardStatuses(options), 429, 503),
        },
        security: adminSecurity,
      },
    },
    async (request) => {
      const { entries, limit = 100 } = request.body ?? {};
      return fromDatabase(async () => {
        const result = await replayDeadLetters(options.db, {
          refs: entries ?? null,
          limit: entries ? MAX_REPLAY : limit,
          lookbackDays: options.lookbackDays,
        });
        const remaining = await deadLetterCount(options.db);
        request.log.info(
          { replayed: result.replayed.length, failed: result.failed.length },
          'dead letters replayed',
        );
        return { ...result, remaining };
      });
    },
  );
}
