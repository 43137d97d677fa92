/**
 * A stand-in for `@fingerprintjs/fingerprintjs` (a browser library: mocking it is mocking the browser),
 * installed per test file with
 * `vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()))`.
 * Each test decides when and how the fingerprint finishes.
 */

/** A promise with its resolve/reject exposed. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The controls. `visitorId` is what `agent.get()` resolves to; replace it per test. */
export const fingerprint = {
  /** How many times the module was imported (its code "loaded"). */
  imports: 0,
  /** Options each `load()` call received. */
  loads: [] as unknown[],
  visitorId: deferred<string>(),
  reset() {
    this.loads = [];
    this.visitorId = deferred<string>();
  },
};

/** The fake module; counts the import. */
export function install() {
  fingerprint.imports++;
  return {
    load: async (options: unknown) => {
      fingerprint.loads.push(options);
      return { get: async () => ({ visitorId: await fingerprint.visitorId.promise }) };
    },
  };
}
