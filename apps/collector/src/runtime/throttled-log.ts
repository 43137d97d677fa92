/**
 * Rate-limited logging of a failure that repeats on every request or reconnect attempt (Redis away):
 * one line per distinct key and interval, carrying the count of lines held back since the last one.
 */

/** Default interval between two lines of one key. */
const LOG_INTERVAL_MS = 10_000;

/**
 * A gate: `pass(key)` answers the number of repeats held back since the key's last line when a line
 * may be written now, else null (and counts the repeat).
 *
 * @example
 * const gate = logGate();
 * const repeats = gate.pass(err.message);
 * if (repeats !== null) log.warn({ repeats }, err.message);
 */
export function logGate(intervalMs = LOG_INTERVAL_MS): { pass(key: string): number | null; reset(): void } {
  const seen = new Map<string, { at: number; repeats: number }>();
  return {
    pass(key) {
      const now = Date.now();
      const last = seen.get(key);
      if (last && now - last.at < intervalMs) {
        last.repeats += 1;
        return null;
      }
      // A bounded map: keys are error messages, a handful in practice.
      if (seen.size >= 100) seen.clear();
      seen.set(key, { at: now, repeats: 0 });
      return last?.repeats ?? 0;
    },
    reset: () => seen.clear(),
  };
}

/** What {@link repeatedErrorLog} writes to: a pino-style `warn`. */
interface WarnLog {
  warn(obj: object, msg: string): void;
}

/** An error's type, code and message, without its stack or other fields. */
function errorSummary(err: unknown): { type: string; code?: string; message: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { type: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message };
}

/**
 * A warning logger for failures that repeat (a persister retrying every partition on every pass):
 * one line per kind of failure and interval, with the count held back since the last one, and the
 * stack only the first time a kind is logged in this process. The kind is the context with its
 * numbers left out (`leases (take over partition 7)` and `… partition 9` are one kind) and the
 * error's code and message.
 *
 * @example
 * const warn = repeatedErrorLog(log);
 * onError: (err, context) => warn(err, context, `persister: ${context} error, retrying`);
 */
export function repeatedErrorLog(
  log: WarnLog,
  intervalMs = LOG_INTERVAL_MS,
): (err: unknown, context: string, msg: string) => void {
  const gate = logGate(intervalMs);
  const stacked = new Set<string>();
  return (err, context, msg) => {
    const summary = errorSummary(err);
    const kind = `${context.replace(/\d+/g, '#')}|${summary.code ?? ''}|${summary.message}`;
    const repeats = gate.pass(kind);
    if (repeats === null) return;
    if (!stacked.has(kind)) {
      // A bounded set: kinds are contexts times messages, a handful in practice.
      if (stacked.size >= 1_000) stacked.clear();
      stacked.add(kind);
      log.warn({ err, repeats }, msg);
    } else log.warn({ err: summary, repeats }, msg);
  };
}
