/**
 * The recovery secret of an embedded collector (docs/protocol.md, Fingerprint joins): without
 * `RECOVERY_SECRET`, one is made once in `DATA_DIR/recovery.secret` (mode 0600) and read at every
 * start, so joins keep working across restarts. The fingerprint entries it keys live in memory only,
 * never in that folder beside it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** The file name of the secret in `DATA_DIR`. */
const RECOVERY_SECRET_FILE = 'recovery.secret';

/**
 * The secret in `dataDir`, made on first use. Throws a {@link ConfigError} naming `DATA_DIR` when the
 * file cannot be read or written.
 */
export function embeddedRecoverySecret(dataDir: string): string {
  const path = join(dataDir, RECOVERY_SECRET_FILE);
  try {
    mkdirSync(dataDir, { recursive: true });
    try {
      // `wx`: two starts racing cannot both write; the loser reads the winner's.
      writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const secret = readFileSync(path, 'utf8').trim();
    if (secret.length < 32) throw new Error(`${path} holds fewer than 32 characters`);
    return secret;
  } catch (err) {
    throw new ConfigError(
      'DATA_DIR',
      `cannot keep the recovery secret in ${path}: ${(err as Error).message}`,
    );
  }
}
