import multipart from '@fastify/multipart';
import { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from './config/app.config';
import { env } from './config/env.validation';
import { FilesConfig } from './config/files.config';
import { ErrorResponseDto } from './common/dto/error-response.dto';
import { AppException } from './common/errors/app.exception';
import { resolveError } from './common/errors/error-body';
import { EnvelopeFastifyAdapter } from './common/http/envelope-fastify.adapter';
import { ConfiguredIoAdapter } from './common/ws/io.adapter';
import { requestId } from './logging';

export const API_PREFIX = 'api/v1';

/**
 * Fastify, answering every successful request in the contract's envelope. The options that
 * Fastify takes only when it is created come from the environment: body limit, proxies
 * trusted for client IPs (rate limits, logs), request ids.
 */
export function createHttpAdapter(): EnvelopeFastifyAdapter {
  const config = env();
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
      // No route, so no onResponse hook: its line is logged when the answer is written.
      reply.raw.once('finish', () => logAnswered(request, reply, () => undefined));
      requestStart(request, reply, () => void reply.code(body.code).send(body));
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', requestStart);
  fastify.addHook('onResponse', logAnswered);
  fastify.addHook('onRequestAbort', logAborted);
  return adapter;
}

/**
 * The security headers: helmet's, with the CSP relaxed only as far as the Swagger UI at /docs
 * needs. Every directive is a constant (no nonces), so helmet gives every response the same
 * headers; they are taken from it once, not by running its chain of middleware per request.
 */
const SECURITY_HEADERS = headersSetBy(
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

/** The headers a Connect-style middleware sets on a response (it must finish synchronously). */
function headersSetBy(
  middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void,
): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => void (headers[name] = String(value)),
    removeHeader: () => undefined,
  };
  let done = false;
  middleware({ method: 'GET', url: '/', headers: {} } as IncomingMessage, res as never, (err) => {
    if (err) throw err instanceof Error ? err : new Error('the security headers failed');
    done = true;
  });
  if (!done) throw new Error('the security headers middleware did not finish synchronously');
  return Object.freeze(headers);
}

/** What every request gets first: `X-Request-Id` and the security headers. */
function requestStart(
  request: FastifyRequest,
  reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  request.raw.id = request.id; // for the request log line's `req.id`
  // Read while the connection is open: Node keeps it for the socket (one lookup per
  // connection), so the line of a request whose client goes away still has it.
  void request.raw.socket?.remoteAddress;
  void reply.header('X-Request-Id', request.id).headers(SECURITY_HEADERS);
  done();
}

/**
 * One JSON line per answered request, as pino-http writes them — `req` (id, method, url,
 * remoteAddress), `res` (statusCode), `responseTime` in ms, and for a 5xx `err`; at info, warn
 * for a 4xx, error for a 5xx — through nestjs-pino's root logger and its serializers and
 * redaction (the error itself is logged where it is handled). The line is built only when its
 * level is enabled: pino-http's middleware serialized every request into a child logger first,
 * even under LOG_LEVEL=warn where a 200 is never logged.
 */
function logAnswered(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const status = reply.statusCode;
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  const logger = PinoLogger.root;
  if (logger.isLevelEnabled(level)) {
    // A CORS preflight is answered before the onRequest hooks: its id is set here.
    request.raw.id ??= request.id;
    const line = { req: request.raw, res: reply.raw, responseTime: Math.round(reply.elapsedTime) };
    if (status >= 500) {
      logger.error(
        { ...line, err: new Error(`failed with status code ${status}`) },
        'request errored',
      );
    } else {
      logger[level](line, 'request completed');
    }
  }
  done();
}

/** A request whose client went away before the answer: logged at info, as pino-http did. */
function logAborted(request: FastifyRequest, done: () => void): void {
  const logger = PinoLogger.root;
  if (logger.isLevelEnabled('info')) {
    request.raw.id ??= request.id;
    logger.info({ req: request.raw }, 'request aborted');
  }
  done();
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
 * body is `{}`, as clients send it for `POST /logout`; any other type is refused with 400. So is
 * a `__proto__` or `constructor.prototype` key (prototype poisoning), saying so: Fastify's
 * parser would call such a body invalid JSON.
 */
function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') return done(null, {});
    void parseJson(request, text as string, (err, body) => {
      if (err && isJson(text as string)) {
        done(
          AppException.badRequest('body must not contain "__proto__" or "constructor.prototype"'),
          undefined,
        );
      } else {
        done(err, body);
      }
    });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
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
