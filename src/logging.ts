import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Options } from 'pino-http';
import type { LogLevel } from './config/env.validation';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** A request's id: the caller's `X-Request-Id` when it is sane, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Structured JSON logs: the options of nestjs-pino's root logger (built by pino-http, whose
 * serializers it keeps). Each answered request gets one line with its id (given by Fastify,
 * see {@link requestId}, and echoed back as `X-Request-Id`), written from a Fastify hook
 * (app.setup.ts). Credentials never reach a log line.
 */
export function pinoHttpOptions(level: LogLevel): Options {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.query.token',
        'res.headers["set-cookie"]',
        '*.password',
        '*.old_password',
        '*.new_password',
        '*.passwordHash',
        '*.password_hash',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url?.replace(/([?&]token=)[^&]*/, '$1[redacted]'),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
