/**
 * The session a link ended, on the link: the conversion rule needs it to tell a session a link ended
 * from one that began in the same millisecond after it. Frozen once merged.
 * Never imports app code (kysely, site/docs/migrations.mdx).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Null for links written before this migration and for links that ended no live session.
  await db.schema.alterTable('identity_links').addColumn('session_id', 'uuid').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_links').dropColumn('session_id').execute();
}
