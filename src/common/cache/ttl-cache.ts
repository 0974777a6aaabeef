/**
 * A small in-process read-through cache for hot lookups that rarely change (token checks,
 * memberships). Entries live at most `ttlMs`; invalidations remove them at once.
 *
 * A load that was already running when an invalidation happened does not store its result (it
 * may have read the row before the change committed): every invalidation moves an epoch, and a
 * load stores only if the epoch it started under is still current.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private epoch = 0;

  /** `live() === false` turns the cache off (e.g. while invalidations could be missed). */
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly live: () => boolean = () => true,
  ) {}

  get(key: string): V | undefined {
    if (!this.live()) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** The cached value, or `load()`'s; an `undefined` result is not cached. */
  async getOrLoad(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    const value = await load();
    if (value !== undefined && epoch === this.epoch && this.live()) this.set(key, value);
    return value;
  }

  delete(key: string): void {
    this.epoch += 1;
    this.entries.delete(key);
  }

  /** Removes every entry whose key or value matches. */
  deleteWhere(match: (key: string, value: V) => boolean): void {
    this.epoch += 1;
    for (const [key, entry] of this.entries) {
      if (match(key, entry.value)) this.entries.delete(key);
    }
  }

  clear(): void {
    this.epoch += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private set(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries) {
      // Oldest first (insertion order): drop the expired, and if none, the oldest one.
      const now = Date.now();
      for (const [k, entry] of this.entries) {
        if (entry.until <= now) this.entries.delete(k);
        else break;
      }
      if (this.entries.size >= this.maxEntries) {
        this.entries.delete(this.entries.keys().next().value!);
      }
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }
}
