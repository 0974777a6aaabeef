import multipart from '@fastify/multipart';
import { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { HttpLogger, pinoHttp } from 'pino-http';
import { AppConfig } from './config/app.config';
import { env, LogLevel } from './config/env.validation';
import { FilesConfig } from './config/files.config';
import { ErrorResponseDto } from './common/dto/error-response.dto';
import { AppException } from './common/errors/app.exception';
import { resolveError } from './common/errors/error-body';
import { EnvelopeFastifyAdapter } from './common/http/envelope-fastify.adapter';
import { ConfiguredIoAdapter } from './common/ws/io.adapter';
import { pinoHttpOptions, requestId } from './logging';

export const API_PREFIX = 'api/v1';

/**
 * Fastify, answering every successful request in the contract's envelope. The options that
 * Fastify takes only when it is created come from the environment: body limit, proxies
 * trusted for client IPs (rate limits, logs), request ids.
 */
export function createHttpAdapter(): EnvelopeFastifyAdapter {
  const config = env();
  const start = requestStart(config.LOG_LEVEL);
  const adapter = new EnvelopeFastifyAdapter({
    bodyLimit: config.BODY_LIMIT,
    trustProxy: trustedProxies(config.TRUST_PROXY),
    genReqId: requestId,
    // As before with Express: `/api/v1/user/profile/` is `/api/v1/user/profile`.
    routerOptions: { ignoreTrailingSlash: true },
    // Errors Fastify's router answers before any route (and so before Nest's filters and any
    // hook): a malformed URL, a path parameter over 100 characters. Answered like the rest.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'path parameter too long' : 'malformed URL';
      const { body } = resolveError(AppException.badRequest(detail));
      start(request, reply, () => void reply.code(body.code).send(body));
    },
  });
  adapter.getInstance().addHook('onRequest', start);
  return adapter;
}

/** Security headers; the CSP is relaxed only as far as the Swagger UI at /docs needs. */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'https:'],
    },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
});

/**
 * What every request gets first: one JSON log line when it is answered (pino-http, through
 * nestjs-pino's logger, under Fastify's request id), `X-Request-Id`, and the security headers
 * (helmet's middleware, built once: @fastify/helmet would build it again for every request).
 */
function requestStart(
  logLevel: LogLevel,
): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  let logRequest: HttpLogger | undefined;
  return (request, reply, done) => {
    // Created at the first request: nestjs-pino's logger exists once the application does.
    logRequest ??= pinoHttp({ ...pinoHttpOptions(logLevel), logger: PinoLogger.root });
    request.raw.id = request.id;
    logRequest(request.raw, reply.raw);
    void reply.header('X-Request-Id', request.id);
    securityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined));
  };
}

/**
 * TRUST_PROXY for Fastify. A hop count trusts that many proxies nearest to the server, as
 * Express did and as the configuration documents (Fastify 5.12 given a number trusts no hop at
 * all): only safe when every request comes through that many proxies.
 */
function trustedProxies(
  setting: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}

/**
 * Everything about the HTTP application that is not a module: prefix, body parsing, CORS,
 * uploads, docs, logger. `main.ts` and the e2e tests both call it, so tests
 * run production's pipeline.
 */
export async function configureApp(app: NestFastifyApplication): Promise<void> {
  const config = app.get(ConfigService).getOrThrow<AppConfig>('app');
  const files = app.get(ConfigService).getOrThrow<FilesConfig>('files');

  app.useLogger(app.get(Logger));
  app.flushLogs();
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodiesOnly(fastify);
  // Multipart bodies are read only by the upload route, within these limits.
  await app.register(multipart, {
    limits: { fileSize: files.maxBytes, files: 1, fields: 5, parts: 10 },
  });
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'health/ready'] });
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app));
  app.enableCors({
    origin: config.corsOrigins === '*' ? true : config.corsOrigins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
  });
  setupSwagger(app);
}

/**
 * JSON is the API's only body type (uploads are multipart, read by their route). An empty JSON
 * body is `{}`, as clients send it for `POST /logout`; any other type is refused with 400.
 */
function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, {});
    else void parseJson(request, body as string, done);
  });
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
