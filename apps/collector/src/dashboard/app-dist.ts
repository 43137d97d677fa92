/** Where the built front-end apps are: `apps/<name>/dist` of the repository this file runs from. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `apps/<name>/dist` of the repository this file runs from (source or bundled), or null when it is
 * not built (or this file runs outside the repository).
 */
export function appDistDir(name: 'dashboard' | 'demo'): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      const dist = join(dir, 'apps', name, 'dist');
      return existsSync(dist) ? dist : null;
    }
    dir = dirname(dir);
  }
  return null;
}
