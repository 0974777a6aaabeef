import { ConfigType, registerAs } from '@nestjs/config';
import { resolve } from 'node:path';
import { env } from './env.validation';

export const filesConfig = registerAs('files', () => {
  const e = env();
  return { dir: resolve(e.UPLOAD_DIR), maxBytes: e.UPLOAD_MAX_BYTES, types: e.UPLOAD_TYPES };
});

export type FilesConfig = ConfigType<typeof filesConfig>;
