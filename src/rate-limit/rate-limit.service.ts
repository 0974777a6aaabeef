import { Inject, Injectable, Logger } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type Redis from 'ioredis';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { rateLimitConfig, RateLimitConfig, RateLimitName } from '../config/rate-limit.config';
import { REDIS } from '../redis/redis.module';

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
 * Abuse limits over @nestjs/throttler's storage (Redis when REDIS_URL is set, so every
 * instance shares the counters). One budget per name and key: registrations per IP, messages
 * per user (REST and socket alike), failed logins per email and IP.
 */
@Injectable()
export class RateLimitService {
  private readonly storage: ThrottlerStorage;

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: RateLimitConfig,
    @Inject(REDIS) redis: Redis | null,
  ) {
    const memory = new ThrottlerStorageService();
    this.storage = redis
      ? new ResilientStorage(new ThrottlerStorageRedisService(redis), memory)
      : memory;
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

  /** 429 while this email+IP is blocked after too many failed logins; counts nothing. */
  async assertLoginAllowed(key: string): Promise<void> {
    const { seconds } = this.config.login;
    const record = await this.storage.increment(
      `im:login-block:${key}`,
      seconds * 1000,
      Number.MAX_SAFE_INTEGER,
      seconds * 1000,
      'login',
    );
    if (record.isBlocked) throw tooMany('login', record.timeToBlockExpire);
  }

  /** Counts a failed login; past the limit the email+IP is blocked for the window. */
  async loginFailed(key: string): Promise<void> {
    const { count, seconds } = this.config.login;
    const ms = seconds * 1000;
    const failures = await this.storage.increment(`im:login-fail:${key}`, ms, count, ms, 'login');
    if (failures.totalHits >= count || failures.isBlocked) {
      // limit 0: the block key is blocked at once, for the window.
      await this.storage.increment(`im:login-block:${key}`, ms, 0, ms, 'login');
    }
  }
}

function tooMany(name: RateLimitName, retryAfter: number): AppException {
  const what = { register: 'registrations', login: 'failed logins', messages: 'messages' }[name];
  const seconds = Math.max(1, Math.ceil(retryAfter));
  return new AppException(
    ErrorCode.TooManyRequests,
    `too many ${what}, retry in ${seconds} s`,
    seconds,
  );
}
