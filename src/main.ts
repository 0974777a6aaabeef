import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureApp, createHttpAdapter } from './app.setup';
import { ConfigError, env, loadDotEnv } from './config/env.validation';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  const { PORT: port } = env();
  // Imported after the environment is known to be valid, so a bad value fails with one line.
  const { AppModule } = await import('./app.module');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(), {
    bodyParser: false,
    bufferLogs: true,
  });
  await configureApp(app);
  exitCleanlyOnSignals(app);
  await listenEverywhere(app, port);
  app.get(Logger).log(`listening on http://localhost:${port} (API docs at /docs)`, 'Bootstrap');
}

/**
 * Every interface, IPv6 and IPv4 (as Node listens by default; Fastify alone would listen on
 * localhost only), or IPv4 only where the system has no IPv6.
 */
async function listenEverywhere(app: NestFastifyApplication, port: number): Promise<void> {
  try {
    await app.listen(port, '::');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    await app.listen(port, '0.0.0.0');
  }
}

/**
 * SIGTERM/SIGINT: Nest stops accepting connections, lets in-flight requests finish, runs the
 * shutdown hooks (closing the database pool), then re-raises the signal. That second delivery
 * means the drain is complete, so the process exits 0.
 */
function exitCleanlyOnSignals(app: NestFastifyApplication): void {
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    let draining = false;
    process.on(signal, () => {
      if (draining) process.exit(0);
      draining = true;
    });
  }
}

// Last line of defence: a stray rejected promise is logged, never fatal to every user's sockets.
process.on('unhandledRejection', (reason: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 50, time: Date.now(), msg: 'unhandled rejection', err: String(reason) })}\n`,
  );
});

bootstrap().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${err.message}\n`);
  } else {
    process.stderr.write(`Startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
