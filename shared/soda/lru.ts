/** A small least-recently-used map: entries beyond `capacity` are dropped, oldest use first. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  private hitCount = 0;
  private missCount = 0;

  /** `onEvict` releases what an entry holds (e.g. closes an open file) when it is dropped. */
  constructor(
    readonly capacity: number,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Lookups answered from the cache. */
  get hits(): number {
    return this.hitCount;
  }

  /** Lookups that had to make the value. */
  get misses(): number {
    return this.missCount;
  }

  /** The value for `key`, made by `make` (and kept) when absent. */
  getOrCreate(key: K, make: () => V): V {
    const found = this.entries.get(key);
    if (found !== undefined) {
      this.hitCount++;
      // A Map iterates in insertion order: re-inserting marks the entry as the newest.
      this.entries.delete(key);
      this.entries.set(key, found);
      return found;
    }
    this.missCount++;
    const made = make();
    this.entries.set(key, made);
    if (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldestKey);
      this.onEvict?.(oldest, oldestKey);
    }
    return made;
  }

  /** The values kept, oldest use first (no use is recorded). */
  values(): IterableIterator<V> {
    return this.entries.values();
  }

  clear(): void {
    if (this.onEvict) for (const [key, value] of this.entries) this.onEvict(value, key);
    this.entries.clear();
  }
}
