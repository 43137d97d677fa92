/**
 * A service named by a configuration variable cannot be used at start-up (Redis unreachable, a
 * database that does not exist, a refused password). server.ts prints it as one line naming the
 * variable and the address, password hidden, and exits non-zero.
 */

/** Start-up failed because of the service `variable` points to. */
export class StartupError extends Error {
  override name = 'StartupError';
  /** The variable naming the service, e.g. `REDIS_URL`. */
  readonly variable: string;
  /** Where it points, password hidden. */
  readonly address: string;

  constructor(variable: string, address: string, problem: string, options?: { cause?: unknown }) {
    super(`${variable} (${address}): ${problem}`, options);
    this.variable = variable;
    this.address = address;
  }
}

/** True for a {@link StartupError}, also across realms (checks `name`). */
export function isStartupError(err: unknown): err is StartupError {
  return err instanceof Error && err.name === 'StartupError';
}

/**
 * A URL with its password replaced by `***` (and no query string, which may carry credentials too).
 *
 * @example
 * displayAddress('redis://:secret@cache:6379/0'); // 'redis://:***@cache:6379/0'
 */
export function displayAddress(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.search = '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** The message of an error and of its causes, on one line (pg and ioredis errors carry no variable). */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim();
}

/**
 * What a Redis error reply means for the operator, on one line and without the Lua script's location
 * (a refused command inside a script carries `script: <sha>, on @user_script:…`).
 */
export function redisProblem(err: unknown): string {
  const message = oneLine(err).replace(/\s*script: [0-9a-f]+, on @user_script:\d+\.?/, '');
  if (/^OOM\b/.test(message)) {
    return 'Redis refuses writes: used memory is above maxmemory (OOM). Raise maxmemory or free memory';
  }
  if (/^READONLY\b/.test(message)) {
    return 'Redis refuses writes: it is a read-only replica (READONLY). Point the collector at the primary';
  }
  return `Redis refused the store's set-up (${message})`;
}
