import { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from './config/app.config';
import { ErrorResponseDto } from './common/dto/error-response.dto';
import { EnvelopeExpressAdapter } from './common/http/envelope-express.adapter';
import { ConfiguredIoAdapter } from './common/ws/io.adapter';

export const API_PREFIX = 'api/v1';

/** Express, answering every successful request in the contract's envelope. */
export function createHttpAdapter(): EnvelopeExpressAdapter {
  return new EnvelopeExpressAdapter();
}

/**
 * Everything about the HTTP application that is not a module: prefix, body limit, CORS, docs,
 * logger. `main.ts` and the e2e tests both call it, so tests run production's
 * pipeline.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(ConfigService).getOrThrow<AppConfig>('app');

  app.useLogger(app.get(Logger));
  app.flushLogs();
  // Client IPs (rate limits, logs) from X-Forwarded-For only through the proxies configured.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // API answers are per-user and change with every message: no ETag hashing of every body.
  app.set('etag', false);
  // Security headers; the CSP is relaxed only as far as the Swagger UI at /docs needs.
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", "'unsafe-inline'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'https:'],
        },
      },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    }),
  );
  app.useBodyParser('json', { limit: config.bodyLimit });
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'health/ready'] });
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app));
  app.enableCors({
    origin: config.corsOrigins === '*' ? true : config.corsOrigins,
    credentials: false,
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
  });
  setupSwagger(app);
}

export function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('IM backend API')
      .setDescription(
        'Register, log in, profiles, private and group chat. Every success is HTTP 200 with ' +
          '`{code:200, message:"success", data}`; every error is `{code, message, error}` with ' +
          'HTTP status == code. Socket.IO events are described in the README.',
      )
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
    { extraModels: [ErrorResponseDto] },
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
