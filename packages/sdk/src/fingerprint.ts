/**
 * The browser fingerprint: FingerprintJS 5, imported lazily (its code is a separate chunk that only
 * loads for an id minted on a first visit, as evidence: see evidence.ts), loaded once with `monitoring: false` so it makes
 * no request of its own. Failure is a value, `{ error }`, never a rejection.
 */
import { FingerprintError } from './errors.js';

/** Outcome of fingerprinting: the visitor id, or why there is none. */
export type FingerprintResult = { id: string } | { error: FingerprintError };

/**
 * Returns a function that computes the fingerprint on its first call and hands every later call the
 * same promise.
 */
export function createFingerprint(): () => Promise<FingerprintResult> {
  let result: Promise<FingerprintResult> | undefined;
  return () => {
    result ??= import('@fingerprintjs/fingerprintjs')
      .then((fp) => fp.load({ monitoring: false }))
      .then((agent) => agent.get())
      .then(
        (r) => ({ id: r.visitorId }),
        (cause: unknown) => ({ error: new FingerprintError('fingerprint failed', { cause }) }),
      );
    return result;
  };
}
