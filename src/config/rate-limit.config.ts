import { ConfigType, registerAs } from '@nestjs/config';
import { env } from './env.validation';

export const rateLimitConfig = registerAs('rateLimit', () => {
  const e = env();
  return {
    register: e.RATE_LIMIT_REGISTER,
    login: e.RATE_LIMIT_LOGIN,
    messages: e.RATE_LIMIT_MESSAGES,
    uploads: e.RATE_LIMIT_UPLOADS,
  };
});

export type RateLimitConfig = ConfigType<typeof rateLimitConfig>;
export type RateLimitName = keyof RateLimitConfig;
