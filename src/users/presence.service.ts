import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { REDIS } from '../redis/redis.module';

const INSTANCES = 'im:presence:instances';
const HEARTBEAT_MS = 10_000;
const STALE_MS = 30_000;

/**
 * Who is online: open sockets per user on this instance, and (with Redis) on the others.
 * Each instance keeps a hash of its online users in Redis, refreshed by a heartbeat and expiring
 * with the instance, so a crashed instance stops counting within half a minute.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PresenceService.name);
  private readonly sockets = new Map<string, number>();
  private readonly instanceId = randomUUID();
  private readonly hashKey = `im:presence:${this.instanceId}`;
  private heartbeat?: NodeJS.Timeout;

  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  onModuleInit(): void {
    if (!this.redis) return;
    // Also right after (re)connecting: the client refuses commands while Redis is unreachable.
    this.redis.on('ready', this.onReady);
    this.heartbeat = setInterval(() => void this.publishAll(), HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.publishAll();
  }

  private readonly onReady = () => void this.publishAll();
  private destroyed = false;

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    this.redis?.off('ready', this.onReady);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.guard(() =>
      this.redis!.multi().del(this.hashKey).zrem(INSTANCES, this.instanceId).exec(),
    );
  }

  /** Counts a new socket; true when the user was offline everywhere before. */
  async connected(userId: string): Promise<boolean> {
    const count = (this.sockets.get(userId) ?? 0) + 1;
    this.sockets.set(userId, count);
    if (count > 1) return false;
    await this.guard(() =>
      this.redis!.multi()
        .hset(this.hashKey, userId, '1')
        .pexpire(this.hashKey, STALE_MS)
        .zadd(INSTANCES, Date.now(), this.instanceId)
        .exec(),
    );
    return !(await this.onlineElsewhere([userId])).has(userId);
  }

  /** Counts a closed socket; true when the user's last socket anywhere closed. */
  async disconnected(userId: string): Promise<boolean> {
    const count = (this.sockets.get(userId) ?? 0) - 1;
    if (count > 0) {
      this.sockets.set(userId, count);
      return false;
    }
    this.sockets.delete(userId);
    await this.guard(() => this.redis!.hdel(this.hashKey, userId));
    return !(await this.onlineElsewhere([userId])).has(userId);
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.onlineAmong([userId])).has(userId);
  }

  /** The subset of `userIds` that is online on any instance. */
  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    const online = new Set(userIds.filter((id) => this.sockets.has(id)));
    const rest = userIds.filter((id) => !online.has(id));
    for (const id of await this.onlineElsewhere(rest)) online.add(id);
    return online;
  }

  private async onlineElsewhere(userIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (!this.redis || userIds.length === 0) return found;
    await this.guard(async () => {
      const instances = (
        await this.redis!.zrangebyscore(INSTANCES, Date.now() - STALE_MS, '+inf')
      ).filter((id) => id !== this.instanceId);
      if (instances.length === 0) return;
      const pipeline = this.redis!.pipeline();
      for (const instance of instances) pipeline.hmget(`im:presence:${instance}`, ...userIds);
      for (const [err, values] of (await pipeline.exec()) ?? []) {
        if (err) continue;
        (values as (string | null)[]).forEach((v, i) => v !== null && found.add(userIds[i]));
      }
    });
    return found;
  }

  /** Rewrites this instance's online users and renews its liveness. */
  private async publishAll(): Promise<void> {
    if (this.destroyed) return;
    await this.guard(async () => {
      const multi = this.redis!.multi().del(this.hashKey);
      if (this.sockets.size > 0) {
        multi.hset(
          this.hashKey,
          Object.fromEntries([...this.sockets.keys()].map((id) => [id, '1'])),
        );
      }
      await multi
        .pexpire(this.hashKey, STALE_MS)
        .zadd(INSTANCES, Date.now(), this.instanceId)
        .zremrangebyscore(INSTANCES, '-inf', Date.now() - 2 * STALE_MS)
        .exec();
    });
  }

  /** Redis trouble never fails a caller: presence degrades to this instance's view. */
  private async guard(work: () => Promise<unknown>): Promise<void> {
    if (!this.redis) return;
    try {
      await work();
    } catch (err) {
      this.logger.warn(`presence in Redis unavailable: ${(err as Error).message}`);
    }
  }
}
