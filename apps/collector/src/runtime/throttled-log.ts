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
