import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Counter {
  hits: number;
  /** When the current window ends (ms since the epoch). */
  windowEnds: number;
  /** Until when the key is blocked (0: not blocked). */
  blockedUntil: number;
}

/** How often counters whose window and block are over are dropped. */
const SWEEP_MS = 60_000;

/**
 * In-process throttler storage with fixed windows: one counter per key, O(1) per hit.
 *
 * The same rules as @nest-lab/throttler-storage-redis's script (used when REDIS_URL is set), so
 * limits behave alike on one instance and on many: the first hit opens a window of `ttl` and
 * every hit counts in it, blocked or not; a hit that finds the count past `limit` and no block
 * running blocks the key for `blockDuration`. (@nestjs/throttler's own in-memory storage keeps
 * every hit's expiry and filters the whole list on each hit: linear in the limit, and the
 * largest item of the socket send path's profile with a high limit.)
 */
export class FixedWindowStorage implements ThrottlerStorage {
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const id = `${key}:${throttlerName}`;
    let counter = this.counters.get(id);
    if (!counter) {
      counter = { hits: 0, windowEnds: 0, blockedUntil: 0 };
      this.counters.set(id, counter);
    }
    if (counter.windowEnds <= now) {
      counter.hits = 0;
      counter.windowEnds = now + ttl;
    }
    counter.hits += 1;
    // Hits count while blocked too: a client that keeps trying past the block's end is still
    // over the limit in the current window, and is blocked again.
    if (counter.blockedUntil <= now) {
      counter.blockedUntil = counter.hits > limit ? now + blockDuration : 0;
    }
    const isBlocked = counter.blockedUntil > now;
    return Promise.resolve({
      totalHits: counter.hits,
      timeToExpire: Math.ceil((counter.windowEnds - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((counter.blockedUntil - now) / 1000) : 0,
    });
  }

  /** Drops the counters whose window and block are both over. */
  sweep(now = Date.now()): void {
    for (const [id, counter] of this.counters) {
      if (counter.windowEnds <= now && counter.blockedUntil <= now) this.counters.delete(id);
    }
  }

  get size(): number {
    return this.counters.size;
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
