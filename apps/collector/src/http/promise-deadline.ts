/**
 * A deadline for a promise: probes (health, metrics) and outbound fetches (JWKS) must not hold a
 * request longer than a bound, whatever the other side does.
 */

/** How long a health or metrics probe of Redis or Postgres may take. */
export const PROBE_TIMEOUT_MS = 1_000;

/**
 * How long a request may wait for the store (Redis) in a route: past it the answer is 503. ioredis
 * queues commands while it reconnects, and some (MULTI-based ones such as identify's and erasure's)
 * wait there past `maxRetriesPerRequest`; the client must get an answer meanwhile.
 */
export const STORE_TIMEOUT_MS = 5_000;

/** `p`, or a rejection "no answer in `ms` ms" once `ms` passed (the timer never holds the process). */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
