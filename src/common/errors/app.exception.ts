import { ErrorCode } from './error-code';

/**
 * The one exception services throw. It knows nothing of HTTP or sockets: `code` says what went
 * wrong, `detail` is the precise reason shown to the client as `error`.
 */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    /** For 429: seconds until the client may try again (`Retry-After`). */
    readonly retryAfter?: number,
  ) {
    super(detail);
    this.name = 'AppException';
  }

  static badRequest(detail: string): AppException {
    return new AppException(ErrorCode.BadRequest, detail);
  }

  static unauthorized(detail = 'invalid or missing token'): AppException {
    return new AppException(ErrorCode.Unauthorized, detail);
  }

  static forbidden(detail: string): AppException {
    return new AppException(ErrorCode.Forbidden, detail);
  }

  static notFound(detail: string): AppException {
    return new AppException(ErrorCode.NotFound, detail);
  }

  static conflict(detail: string): AppException {
    return new AppException(ErrorCode.Conflict, detail);
  }
}
