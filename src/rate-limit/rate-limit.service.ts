import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type Redis from 'ioredis';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { rateLimitConfig, RateLimitConfig, RateLimitName } from '../config/rate-limit.config';
import { REDIS } from '../redis/redis.module';
import { FixedWindowStorage } from './fixed-window.storage';

/** Counters that must never fail a request: Redis when it answers, this process otherwise. */
class ResilientStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private warnedAt = 0;

  constructor(
    private readonly primary: ThrottlerStorage,
    private readonly fallback: ThrottlerStorage,
  ) {}

  async increment(key: string, ttl: number, limit: number, block: number, name: string) {
    try {
      return await this.primary.increment(key, ttl, limit, block, name);
    } catch (err) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        this.logger.warn(
          `Redis unavailable for rate limits (${(err as Error).message}); counting per instance`,
        );
      }
      return this.fallback.increment(key, ttl, limit, block, name);
    }
  }
}

/**
 * Abuse limits over a throttler storage (Redis when REDIS_URL is set, so every instance shares
 * the counters; fixed windows in this process otherwise). One budget per name and key:
 * registrations per IP, messages per user (REST and socket alike), login attempts per email
 * and IP.
 */
@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  private readonly storage: ThrottlerStorage;
  private readonly memory = new FixedWindowStorage();

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: RateLimitConfig,
    @Inject(REDIS) redis: Redis | null,
  ) {
    this.storage = redis
      ? new ResilientStorage(new ThrottlerStorageRedisService(redis), this.memory)
      : this.memory;
  }

  onApplicationShutdown(): void {
    this.memory.close();
  }

  /** Counts one event; 429 once the budget of the window is spent. */
  async consume(name: Exclude<RateLimitName, 'login'>, key: string): Promise<void> {
    const { count, seconds } = this.config[name];
    const record = await this.storage.increment(
      `im:${name}:${key}`,
      seconds * 1000,
      count,
      seconds * 1000,
      name,
    );
    if (record.isBlocked) throw tooMany(name, record.timeToBlockExpire);
  }

  /**
   * Counts a login attempt for this email+IP before the password is checked (atomically, so
   * parallel guesses are counted too); past the limit the pair is blocked for the window.
   */
  async loginAttempt(key: string): Promise<void> {
    const { count, seconds } = this.config.login;
    const ms = seconds * 1000;
    const record = await this.storage.increment(`im:login:${key}`, ms, count, ms, 'login');
    if (record.isBlocked) throw tooMany('login', record.timeToBlockExpire);
  }
}

function tooMany(name: RateLimitName, retryAfter: number): AppException {
  const what = {
    register: 'registrations',
    login: 'login attempts',
    messages: 'messages',
    uploads: 'uploads',
  }[name];
  const seconds = Math.max(1, Math.ceil(retryAfter));
  return new AppException(
    ErrorCode.TooManyRequests,
    `too many ${what}, retry in ${seconds} s`,
    seconds,
  );
}
