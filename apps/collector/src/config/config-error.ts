/** A configuration variable has a bad value or a refused combination; the message starts with its name. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The variable at fault, e.g. `ADMIN_TOKEN`. */
  readonly variable: string;

  constructor(variable: string, problem: string, options?: { cause?: unknown }) {
    super(`${variable} ${problem}`, options);
    this.variable = variable;
  }
}

/** True for a {@link ConfigError}, also across realms (checks `name`, not `instanceof`). */
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && err.name === 'ConfigError';
}
