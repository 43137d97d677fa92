/** The audit record of an erasure (device or user). */
import type { Database } from '@devicelink/persister';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { recordAudit } from '../read/audit-log.js';

/**
 * Records an erasure in the audit log. The erasure is queued already and is never undone for want of a
 * record: a failed write is logged at error level instead.
 */
export async function auditErasure(
  db: Kysely<Database>,
  request: FastifyRequest,
  action: 'erase-device' | 'erase-user',
  subject: string,
): Promise<void> {
  try {
    await recordAudit(db, { actor: request.tokenKind ?? 'admin', action, subject });
  } catch (err) {
    request.log.error({ err }, 'audit log write failed');
  }
}
