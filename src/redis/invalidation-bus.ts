import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { appConfig, AppConfig } from '../config/app.config';
import { REDIS } from './redis.token';

/** What a cache holds that a change makes stale. */
export type InvalidationTopic =
  | 'auth.token' // key: a token's jti (logout)
  | 'auth.user' // key: a user id (password change: all of the user's tokens)
  | 'groups.membership' // key: `${groupId}|${userId}`
  | 'groups.group'; // key: a group id (deleted)

const CHANNEL = 'im:invalidate';

interface Wire {
  from: string;
  topic: InvalidationTopic;
  key: string;
}

/**
 * Tells the in-process caches of every instance that something changed. Handlers run at once
 * for this instance and, when REDIS_URL is set, through Redis pub/sub for the others. While
 * this instance is not subscribed it could miss what others publish, so its caches are not
 * used (`live` is false: every check goes to the database), and once the subscription is
 * confirmed again every cache is cleared (`onReset`) before they are used again.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private readonly logger = new Logger(InvalidationBus.name);
  private readonly id = randomUUID();
  private readonly handlers = new Map<InvalidationTopic, ((key: string) => void)[]>();
  private readonly resets: (() => void)[] = [];
  private readonly sub: Redis | null = null;
  private warnedAt = 0;
  private subscribed = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    if (!config.redisUrl || !redis) return;
    // Subscriptions wait for Redis (and are renewed after a reconnect) instead of failing.
    const sub = new Redis(config.redisUrl, {
      connectionName: 'im-invalidation-sub',
      maxRetriesPerRequest: null,
      autoResubscribe: false, // subscribed below on every (re)connect, and confirmed
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.sub = sub;
    sub.on('error', () => undefined); // reported by the command client
    sub.on('close', () => (this.subscribed = false));
    sub.on('ready', () => {
      sub.subscribe(CHANNEL).then(
        () => {
          // Whatever was published while we were not listening is lost: start over.
          for (const reset of this.resets) reset();
          this.subscribed = true;
        },
        () => undefined, // the connection dropped again; the next 'ready' retries
      );
    });
    sub.on('message', (channel: string, raw: string) => {
      if (channel === CHANNEL) this.receive(raw);
    });
  }

  /** Whether caches may be used: single instance, or subscribed to the others' changes. */
  get live(): boolean {
    return !this.sub || this.subscribed;
  }

  on(topic: InvalidationTopic, handler: (key: string) => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Called when this instance may have missed invalidations from others. */
  onReset(reset: () => void): void {
    this.resets.push(reset);
  }

  /**
   * Invalidates here, now, and on the other instances: resolves once Redis has passed the
   * message on to them (never rejects; if Redis is down their entries expire by themselves).
   */
  async publish(topic: InvalidationTopic, key: string): Promise<void> {
    this.apply(topic, key);
    if (!this.redis) return;
    const wire: Wire = { from: this.id, topic, key };
    try {
      await this.redis.publish(CHANNEL, JSON.stringify(wire));
    } catch (err) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        this.logger.warn(
          `Redis publish failed (${(err as Error).message}): other instances' caches expire`,
        );
      }
    }
  }

  onApplicationShutdown(): void {
    this.sub?.disconnect();
  }

  private receive(raw: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(raw) as Wire;
    } catch {
      return;
    }
    if (wire.from !== this.id && typeof wire.key === 'string') this.apply(wire.topic, wire.key);
  }

  private apply(topic: InvalidationTopic, key: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(key);
  }
}
