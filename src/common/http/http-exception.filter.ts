import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException } from '../errors/app.exception';
import { resolveError } from '../errors/error-body';

/** Renders every error raised while serving an HTTP request as `{code, message, error}`. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<Request & { id?: string | number }>();
    const response = ctx.getResponse<Response>();
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
    if (response.headersSent) {
      response.end();
      return;
    }
    if (exception instanceof AppException && exception.retryAfter !== undefined) {
      response.setHeader('Retry-After', String(exception.retryAfter));
    }
    response.status(body.code).json(body);
  }
}

function errorMessage(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}
