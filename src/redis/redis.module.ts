import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { appConfig, AppConfig } from '../config/app.config';
import { InvalidationBus } from './invalidation-bus';
import { REDIS } from './redis.token';

export { REDIS };

const logger = new Logger('Redis');

/**
 * A client that fails fast while Redis is unreachable (no offline queue), so callers can fall
 * back to single-instance behaviour, and reconnects by itself.
 */
export function createRedisClient(url: string, name: string): Redis {
  const client = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    // A stalled Redis must not stall requests: callers fall back after a second.
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) logger.warn(`${name}: ${err.message}; running degraded until Redis is back`);
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.log(`${name}: Redis is back`);
    down = false;
  });
  return client;
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig): Redis | null =>
        config.redisUrl ? createRedisClient(config.redisUrl, 'im-commands') : null,
    },
    InvalidationBus,
  ],
  exports: [REDIS, InvalidationBus],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
