import { ConfigType, registerAs } from '@nestjs/config';
import { env } from './env.validation';

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    corsOrigins: e.CORS_ORIGINS,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT,
    redisUrl: e.REDIS_URL,
  };
});

export type AppConfig = ConfigType<typeof appConfig>;
