/**
 * The audit log of exports and erasures (`GET /v1/admin/audit`): which token kind did what to which subject,
 * and when. Never the token, never the exported data.
 */
import type { Database } from '@devicelink/persister';
import type { Kysely } from 'kysely';
import type { TokenKind } from '../auth/admin-auth.js';

/** What is audited. */
export type AuditAction = 'export-user' | 'export-pageviews' | 'erase-device' | 'erase-user';

/** One audit entry as the audit route answers it. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: TokenKind | string;
  action: AuditAction | string;
  subject: string | null;
  detail: Record<string, unknown> | null;
}

/** Records one action. */
export async function recordAudit(
  db: Kysely<Database>,
  entry: { actor: TokenKind; action: AuditAction; subject: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: new Date(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .execute();
}

/** The newest entries first, `limit` of them before entry id `before` (exclusive), if given. */
export async function readAudit(
  db: Kysely<Database>,
  before: string | null,
  limit: number,
): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
  let q = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (before !== null) q = q.where('id', '<', before);
  const rows = await q.execute();
  const page = rows.slice(0, limit);
  return {
    entries: page.map((r) => ({
      id: String(r.id),
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    })),
    nextCursor: rows.length > limit ? String(page.at(-1)!.id) : null,
  };
}
