/**
 * A pid lock file in `DATA_DIR`: the embedded PGlite database and the queue journal are single-process
 * files, and a second collector writing them would corrupt both. A lock left by a dead process (a crash,
 * SIGKILL) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** A held lock; `release` removes the file (idempotent). */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dataDir`, creating the folder. Throws a {@link ConfigError} naming `DATA_DIR` when a
 * live process holds it.
 *
 * @example
 * const lock = lockDataDir(config.dataDir);
 * app.addHook('onClose', async () => lock.release());
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'collector.lock');
  // The pid check cannot tell two collectors of one process apart (tests, embedding): track those here.
  if (heldHere.has(path)) {
    throw new ConfigError('DATA_DIR', `${dataDir} is in use by another collector in this process`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // 'wx' fails when the file exists: creation is the atomic test-and-set.
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      heldHere.add(path);
      return {
        path,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(path);
          rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
    } catch {
      // Removed in between: try again.
    }
    if (alive(holder)) {
      throw new ConfigError(
        'DATA_DIR',
        `${dataDir} is in use by another collector (pid ${holder}); stop it, or give this one its own DATA_DIR`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new ConfigError('DATA_DIR', `could not lock ${dataDir}`);
}
