/**
 * Every migration, listed statically: a bundled build has no folder to scan, so no
 * FileMigrationProvider. Add new migrations here under their file's name; never rename one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as initialSchema from './2026-01-15T00-00-00-initial-schema.js';
import * as erasureAndStats from './2026-03-01T00-00-00-erasure-and-stats.js';
import * as deviceTombstones from './2026-04-01T00-00-00-device-tombstones-and-dead-letters.js';
import * as deviceEdges from './2026-12-01T01-00-00-device-edges.js';
import * as linkEndedSession from './2026-12-01T02-00-00-link-ended-session.js';
import * as pageViewsBySubject from './2026-12-01T02-00-01-page-views-by-subject-and-id-time.js';
import * as insights from './2026-12-01T03-00-00-insights.js';
import * as partitionFences from './2026-12-01T04-00-00-partition-fences.js';
import * as identityFigures from './2026-12-01T05-00-00-identity-figures.js';
import * as trafficClass from './2026-12-07T01-00-00-traffic-class.js';
import * as deviceBoundaries from './2026-12-07T21-30-00-device-boundaries.js';
import * as rollupFolding from './2026-12-20T00-00-00-rollup-folding.js';

const migrations: Record<string, Migration> = {
  '2026-01-15T00-00-00-initial-schema': initialSchema,
  '2026-03-01T00-00-00-erasure-and-stats': erasureAndStats,
  '2026-04-01T00-00-00-device-tombstones-and-dead-letters': deviceTombstones,
  '2026-12-01T01-00-00-device-edges': deviceEdges,
  '2026-12-01T02-00-00-link-ended-session': linkEndedSession,
  '2026-12-01T02-00-01-page-views-by-subject-and-id-time': pageViewsBySubject,
  '2026-12-01T03-00-00-insights': insights,
  '2026-12-01T04-00-00-partition-fences': partitionFences,
  '2026-12-01T05-00-00-identity-figures': identityFigures,
  '2026-12-07T01-00-00-traffic-class': trafficClass,
  '2026-12-07T21-30-00-device-boundaries': deviceBoundaries,
  '2026-12-20T00-00-00-rollup-folding': rollupFolding,
};

/** The static migration provider: every migration of the schema, for kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
