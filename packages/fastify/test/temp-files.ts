/** Files of the memory store's journal and snapshot in temporary directories, removed after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * For the enclosing `describe`: each call gives the path of `name` in a fresh directory `dl-<label>-…`;
 * every such directory is removed after each test.
 */
export function useTempFiles(label: string): (name: string) => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return (name) => {
    const dir = mkdtempSync(join(tmpdir(), `dl-${label}-`));
    dirs.push(dir);
    return join(dir, name);
  };
}
