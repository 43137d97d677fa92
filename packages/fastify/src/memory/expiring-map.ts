/**
 * A bounded map whose entries expire: the memory store's stand-in for Redis keys with a TTL.
 * Expiry is enforced lazily on read and by `sweep()`; when full, the least recently written entry is
 * evicted (Map keeps insertion order, and `set` re-inserts), like Redis under `allkeys-lru`.
 *
 * Not lru-cache (a dependency already, for the user-agent memo): with TTLs it allocates its arrays for
 * `max` entries up front, 21 MiB for the memory store's eight maps of 100,000 before one session
 * exists, where this map grows with its entries. Its get and set are faster (140 against 265 ns a pair
 * in a loop of 5,000 keys), about half a microsecond of a page view's 150: not measurable on the path.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;
  #changes = 0;

  constructor(maxEntries: number, now: () => number) {
    this.#max = maxEntries;
    this.#now = now;
  }

  /** The live value, or undefined when absent or expired. */
  get(key: K): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Sets a value that lives `ttlMs` from now, evicting the oldest entries beyond the bound. */
  set(key: K, value: V, ttlMs: number): void {
    this.restore(key, value, this.#now() + ttlMs);
  }

  /** Sets a value that expires at `expiresAt` (Unix ms): an entry read back from a snapshot. */
  restore(key: K, value: V, expiresAt: number): void {
    this.#changes++;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    if (this.#entries.delete(key)) this.#changes++;
  }

  /**
   * How many writes and deletes the map has seen: a snapshot is due when it moved. A value changed
   * in place without a `set` is not counted.
   */
  get changes(): number {
    return this.#changes;
  }

  /** The live entries with their expiry (Unix ms), oldest write first. */
  *live(): IterableIterator<[K, V, number]> {
    const now = this.#now();
    for (const [key, e] of this.#entries) if (e.expiresAt > now) yield [key, e.value, e.expiresAt];
  }

  /** Number of stored entries, expired ones included until swept. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every expired entry. */
  sweep(): void {
    const now = this.#now();
    for (const [key, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(key);
  }
}
