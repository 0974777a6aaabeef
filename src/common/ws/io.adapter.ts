import { INestApplicationContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';
import type { AppConfig } from '../../config/app.config';

/** Socket.IO server options from configuration: CORS like HTTP, payloads bounded like bodies. */
export class ConfiguredIoAdapter extends IoAdapter {
  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const config = this.app.get(ConfigService).getOrThrow<AppConfig>('app');
    return super.createIOServer(port, {
      ...options,
      cors: { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: false },
      maxHttpBufferSize: config.bodyLimit,
    });
  }
}
