import { HttpException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppException } from './app.exception';
import { codeForStatus, describeError, ErrorCode } from './error-code';

export interface ErrorBody {
  code: number;
  message: string;
  error: string;
}

export interface ResolvedError {
  body: ErrorBody;
  /** True when the error is unexpected and must be logged with its stack. */
  unexpected: boolean;
}

function bodyFor(code: ErrorCode, detail: string): ErrorBody {
  const { status, message } = describeError(code);
  return { code: status, message, error: detail };
}

/** Errors raised by the database driver when the server cannot be reached at all. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'SQLITE_BUSY',
]);

function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    fatal?: unknown;
    message?: unknown;
    driverError?: { code?: unknown; fatal?: unknown; message?: unknown };
  };
  const code = typeof e?.code === 'string' ? e.code : e?.driverError?.code;
  if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
  // mysql2: the connection died under the query (fatal), or a dead pooled connection was used.
  if (e?.fatal === true || e?.driverError?.fatal === true) return true;
  const raw = e?.driverError?.message ?? e?.message;
  const message = typeof raw === 'string' ? raw : '';
  return /closed state|Connection lost|connect ETIMEDOUT|Pool is closed/i.test(message);
}

function httpExceptionDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

/**
 * Turns anything thrown into the contract's error body. Never exposes a driver message, an
 * SQL statement or a stack: only AppException details and Nest's own client-error texts.
 */
export function resolveError(exception: unknown, requestId?: string): ResolvedError {
  if (exception instanceof AppException) {
    return { body: bodyFor(exception.code, exception.detail), unexpected: false };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = codeForStatus(status);
    if (status === 503) {
      // Terminus lists what is down: `{error: {database: {status: 'down'}}}`.
      const down = (exception.getResponse() as { error?: Record<string, unknown> }).error;
      const names = down && typeof down === 'object' ? Object.keys(down) : [];
      return {
        body: bodyFor(
          ErrorCode.ServiceUnavailable,
          names.length ? `${names.join(', ')} unavailable` : 'service unavailable, retry later',
        ),
        unexpected: false,
      };
    }
    if (status >= 500) {
      return { body: internal(code, requestId), unexpected: true };
    }
    if (status === 413) {
      // Fastify's body limit (Nest hands it over as an HttpException with Fastify's wording).
      return { body: bodyFor(code, 'request body too large'), unexpected: false };
    }
    return { body: bodyFor(code, httpExceptionDetail(exception)), unexpected: false };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      body: bodyFor(ErrorCode.ServiceUnavailable, 'database unavailable, retry later'),
      unexpected: false,
    };
  }
  if (exception instanceof QueryFailedError && isDatabaseUnavailable(exception.driverError)) {
    return {
      body: bodyFor(ErrorCode.ServiceUnavailable, 'database unavailable, retry later'),
      unexpected: false,
    };
  }
  return { body: internal(ErrorCode.Internal, requestId), unexpected: true };
}

function internal(code: ErrorCode, requestId?: string): ErrorBody {
  if (code === ErrorCode.ServiceUnavailable) {
    return bodyFor(code, 'service unavailable, retry later');
  }
  return bodyFor(
    ErrorCode.Internal,
    requestId ? `unexpected error, request id ${requestId}` : 'unexpected error',
  );
}
