import { ConfigType, registerAs } from '@nestjs/config';
import { env } from './env.validation';

export const chatConfig = registerAs('chat', () => {
  const e = env();
  return { typingPerWindow: e.TYPING_RATE_LIMIT, typingWindowMs: 5000 };
});

export type ChatConfig = ConfigType<typeof chatConfig>;
