import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { configureApp } from './app.setup';
import { ConfigError, env } from './config/env.validation';

async function bootstrap(): Promise<void> {
  const { PORT: port } = env();
  // Imported after the environment is known to be valid, so a bad value fails with one line.
  const { AppModule } = await import('./app.module');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    bufferLogs: true,
    forceCloseConnections: false,
  });
  configureApp(app);
  await app.listen(port);
}

bootstrap().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${err.message}\n`);
  } else {
    process.stderr.write(`Startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
