/**
 * Runs `work`, answering undefined when it throws. For failures that are a miss, never an error: a
 * storage that throws, a URL that does not parse, a refused beacon, and the app's own callbacks, whose
 * failure must not break the SDK's work.
 */
export function attempt<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}
