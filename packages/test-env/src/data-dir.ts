/**
 * Temporary data folders (`DATA_DIR`) for tests. A new PGlite cluster costs an initdb: 5 s on an idle
 * core, 20 s with the suite's other workers busy, and the suite makes dozens. The run's global setup
 * (`./pglite-template.ts`) makes one empty cluster; every folder made here gets a copy of it (0.2 s),
 * so a collector or persister on it still starts from an empty, unmigrated database, as on a new
 * machine, without paying initdb again. Outside the root run (a package's own vitest) there is no
 * template and PGlite runs initdb itself.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the run's template cluster lives (`<dir>/pglite`), set by the global setup. */
export const PGLITE_TEMPLATE_ENV = 'DL_PGLITE_TEMPLATE';

/** A new temporary folder holding an empty PGlite cluster where PGlite looks for it, and its removal. */
export function tempDataDir(label = 'data'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `dl-${label}-`));
  const template = process.env[PGLITE_TEMPLATE_ENV];
  if (template) cpSync(join(template, 'pglite'), join(dir, 'pglite'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
