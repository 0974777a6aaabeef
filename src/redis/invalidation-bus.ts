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
/** Each instance's own channel for the confirmations of what it published. */
const ACK_CHANNEL = 'im:invalidate:ack:';
/** How long a publisher waits for the other instances to confirm before it goes on anyway. */
export const ACK_WAIT_MS = 500;

interface Wire {
  from: string;
  seq: number;
  topic: InvalidationTopic;
  key: string;
}

interface Pending {
  confirmed: number;
  expected: number; // Infinity until Redis has said how many subscribers the channel has
  done: () => void;
}

/**
 * Tells the in-process caches of every instance that something changed. Handlers run at once
 * for this instance and, when REDIS_URL is set, through Redis pub/sub for the others. Every
 * instance confirms what it has applied, and `publish` resolves only when every subscriber of
 * the channel has confirmed: a request to another instance that follows a logout, a
 * password change or a removal from a group sees the change (read-your-writes across
 * instances). An instance that does not confirm within ACK_WAIT_MS is waited for no longer.
 * While this instance is not subscribed it could miss what others publish, so its caches are
 * not used (`live` is false: every check goes to the database), and once the subscription is
 * confirmed again every cache is cleared (`onReset`) before they are used again.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private readonly logger = new Logger(InvalidationBus.name);
  private readonly id = randomUUID();
  private readonly handlers = new Map<InvalidationTopic, ((key: string) => void)[]>();
  private readonly resets: (() => void)[] = [];
  private readonly sub: Redis | null = null;
  private readonly ackChannel = ACK_CHANNEL + this.id;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
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
      sub.subscribe(CHANNEL, this.ackChannel).then(
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
      else if (channel === this.ackChannel) this.confirm(Number(raw));
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
   * Invalidates here, now, and on the other instances: resolves once they have confirmed it,
   * or after ACK_WAIT_MS (never rejects; if Redis is down their entries expire by themselves).
   */
  async publish(topic: InvalidationTopic, key: string): Promise<void> {
    this.apply(topic, key);
    if (!this.redis) return;
    const wire: Wire = { from: this.id, seq: ++this.seq, topic, key };
    let timer: NodeJS.Timeout | undefined;
    const pending: Pending = { confirmed: 0, expected: Infinity, done: () => undefined };
    // Listening before publishing: a confirmation may come back before PUBLISH's own reply.
    const confirmed = new Promise<boolean>((resolve) => {
      pending.done = () => resolve(true);
      timer = setTimeout(() => resolve(false), ACK_WAIT_MS);
    });
    this.pending.set(wire.seq, pending);
    try {
      // Every subscriber of the channel, this instance included, confirms what it receives:
      // as many as the channel had when the message went out (PUBLISH's own count would also
      // include pattern subscribers, e.g. a monitoring client, which never confirm).
      const replies = await this.redis
        .multi()
        .publish(CHANNEL, JSON.stringify(wire))
        .pubsub('NUMSUB', CHANNEL)
        .exec();
      const [published, numsub] = replies ?? [];
      if (!published || !numsub || published[0] || numsub[0]) {
        throw published?.[0] ?? numsub?.[0] ?? new Error('transaction discarded');
      }
      pending.expected = Number((numsub[1] as [string, number])[1]);
      if (pending.confirmed >= pending.expected) pending.done();
      const allConfirmed = await confirmed;
      if (!allConfirmed) {
        this.warn(
          `${pending.expected - pending.confirmed} of ${pending.expected} subscribers did not ` +
            `confirm an invalidation within ${ACK_WAIT_MS} ms; their caches expire by themselves`,
        );
      }
    } catch (err) {
      this.warn(`Redis publish failed (${(err as Error).message}): other instances' caches expire`);
    } finally {
      clearTimeout(timer);
      this.pending.delete(wire.seq);
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
    if (wire.from === this.id) {
      this.confirm(wire.seq);
      return;
    }
    if (typeof wire.key === 'string') this.apply(wire.topic, wire.key);
    if (typeof wire.from === 'string' && Number.isSafeInteger(wire.seq)) {
      // Fails fast while the command connection is down; the publisher then waits out ACK_WAIT_MS.
      this.redis?.publish(ACK_CHANNEL + wire.from, String(wire.seq)).catch(() => undefined);
    }
  }

  private confirm(seq: number): void {
    const pending = this.pending.get(seq);
    if (pending && ++pending.confirmed >= pending.expected) pending.done();
  }

  private warn(message: string): void {
    if (Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      this.logger.warn(message);
    }
  }

  private apply(topic: InvalidationTopic, key: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(key);
  }
}
