import { ConfigType, registerAs } from '@nestjs/config';
import { env } from './env.validation';

export const groupsConfig = registerAs('groups', () => ({ maxMembers: env().GROUP_MAX_MEMBERS }));

export type GroupsConfig = ConfigType<typeof groupsConfig>;
