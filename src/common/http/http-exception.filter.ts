import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { resolveError } from '../errors/error-body';

/** Renders every error raised while serving an HTTP request as `{code, message, error}`. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest | undefined>();
    const response: unknown = ctx.getResponse();
    const http = this.adapterHost.httpAdapter;
    const requestId = request?.id !== undefined ? String(request.id) : undefined;
    const { body, unexpected } = resolveError(exception, requestId);

    if (unexpected) {
      this.logger.error(
        { err: exception, requestId, method: request?.method, url: request?.originalUrl },
        'unexpected error',
      );
    } else if (body.code === 503) {
      this.logger.warn({ requestId, reason: errorMessage(exception) }, 'service unavailable');
    }
    // Fastify's `sent` means the answer has ended; a stream that failed midway has sent its
    // headers only, and can only be cut short.
    const raw = (response as { raw?: { headersSent?: boolean } }).raw;
    if (http.isHeadersSent(response) || raw?.headersSent) {
      http.end(response);
      return;
    }
    if (exception instanceof AppException && exception.retryAfter !== undefined) {
      http.setHeader(response, 'Retry-After', String(exception.retryAfter));
    }
    http.reply(response, body, body.code);
  }
}

function errorMessage(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}
