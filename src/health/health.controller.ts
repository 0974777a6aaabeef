import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { Public } from '../common/decorators/public.decorator';
import { ApiErrors } from '../common/decorators/api-envelope.decorator';
import { ErrorCode } from '../common/errors/error-code';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database (and Redis, when configured) answers' })
  @HealthCheck()
  @ApiErrors(ErrorCode.ServiceUnavailable)
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.db.pingCheck('database', { timeout: 1500 }),
    ];
    if (this.redis) checks.push(() => this.redisCheck(this.redis!));
    return this.health.check(checks);
  }

  private async redisCheck(redis: Redis) {
    const indicator = this.indicators.check('redis');
    try {
      const ping = redis.ping();
      ping.catch(() => undefined); // a late failure after the timeout is not unhandled
      await Promise.race([
        ping,
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1500).unref()),
      ]);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}
