/**
 * Vitest global setup of the root config: makes the run's empty PGlite cluster once, for
 * `tempDataDir` to copy (see `data-dir.ts`), and removes it when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_TEMPLATE_ENV } from './data-dir.js';

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'dl-pglite-template-'));
  // Where createDb opens it (`<DATA_DIR>/pglite`); closed, so its files can be copied.
  const pglite = await PGlite.create(join(dir, 'pglite'));
  await pglite.close();
  // Global setup runs before the workers start; they inherit the variable.
  process.env[PGLITE_TEMPLATE_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
