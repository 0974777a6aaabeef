import { INestApplicationContext, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { AppConfig } from '../../config/app.config';
import { createRedisClient } from '../../redis/redis.module';
import { coalesceWrites } from './coalesce-writes';

/**
 * Socket.IO server options from configuration: CORS like HTTP, payloads bounded like bodies.
 * With REDIS_URL the Redis adapter (pub/sub) lets several instances reach each other's
 * sockets; while Redis is down, publishing fails fast and delivery degrades to this instance.
 */
export class ConfiguredIoAdapter extends IoAdapter {
  private readonly logger = new Logger('ConfiguredIoAdapter');
  private readonly clients: Redis[] = [];

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const config = this.app.get(ConfigService).getOrThrow<AppConfig>('app');
    const server = super.createIOServer(port, {
      ...options,
      cors: { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: false },
      maxHttpBufferSize: config.bodyLimit,
    }) as Server;
    server.engine.on('connection', (conn: Parameters<typeof coalesceWrites>[0]) =>
      coalesceWrites(conn),
    );
    if (config.redisUrl) {
      const pub = createRedisClient(config.redisUrl, 'im-socket-pub');
      // Subscriptions wait for Redis (and are renewed after a reconnect) instead of failing.
      const sub = new Redis(config.redisUrl, {
        connectionName: 'im-socket-sub',
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      sub.on('error', () => undefined); // reported by the pub client
      // The adapter does not wait for these on close; a closed connection must not reject unhandled.
      for (const method of ['punsubscribe', 'unsubscribe'] as const) {
        const original = sub[method].bind(sub) as (...args: unknown[]) => Promise<unknown>;
        (sub as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
          original(...args).catch(() => 0);
      }
      const publish = pub.publish.bind(pub);
      let warned = 0;
      pub.publish = (channel: string, message: string | Buffer) =>
        publish(channel, message).catch((err: Error) => {
          if (Date.now() - warned > 10_000) {
            warned = Date.now();
            this.logger.warn(
              `Redis publish failed (${err.message}): delivering to this instance only`,
            );
          }
          return 0;
        });
      this.clients.push(pub, sub);
      server.adapter(createAdapter(pub, sub, { requestsTimeout: 3000 }));
    }
    return server;
  }

  /**
   * Nest's own binding keeps an rxjs pipeline (fromEvent, mergeMap, takeUntil, share) alive
   * per handler per socket for the socket's whole life: about half of what an idle connection
   * costs in memory. Plain listeners do the same job. Nest's `transform` (rxjs `from` and
   * `mergeAll` over the handler's result) is not used either: a handler's result is a promise
   * of one value, sent as the ack; an Observable result is still followed to its end.
   */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[]): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      const fail = (err: unknown) =>
        this.logger.error({ err }, `handler of ${String(message)} failed`);
      socket.on(message as string, (...args: unknown[]) => {
        // As rxjs fromEvent would hand it over: none or one argument as is, several as an array.
        const { data, ack } = this.mapPayload(args.length <= 1 ? args[0] : args) as {
          data: unknown;
          ack?: (reply: unknown) => void;
        };
        const answer = (response: unknown) => {
          if (response === undefined || response === null) return;
          const { event, data: payload } = response as { event?: string; data?: unknown };
          if (event) socket.emit(event, payload);
          else if (!isAckHandledManually && typeof ack === 'function') ack(response);
        };
        // A handler that throws at once is caught and logged like one that rejects.
        new Promise<unknown>((resolve) => resolve(callback(data, ack)))
          .then(async (result) => {
            if (isObservable(result)) result.subscribe({ next: answer, error: fail });
            else answer(await result);
          })
          .catch(fail);
      });
    }
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    for (const client of this.clients.splice(0)) client.disconnect();
  }
}
