/**
 * Transport-neutral error codes. Services throw {@link AppException} with one of these; the HTTP
 * exception filter (and later the WebSocket one) maps them to the contract's `{code, message, error}`.
 */
export enum ErrorCode {
  BadRequest = 'BAD_REQUEST',
  Unauthorized = 'UNAUTHORIZED',
  LoginFailed = 'LOGIN_FAILED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  Internal = 'INTERNAL',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
}

export interface ErrorDescriptor {
  status: number;
  message: string;
}

/** The contract's table (CONTRACT §1): HTTP status and the fixed `message` of each code. */
export function describeError(code: ErrorCode): ErrorDescriptor {
  switch (code) {
    case ErrorCode.BadRequest:
      return { status: 400, message: '请求参数错误' };
    case ErrorCode.Unauthorized:
      return { status: 401, message: '未授权或 token 无效' };
    case ErrorCode.LoginFailed:
      return { status: 401, message: '登录失败' };
    case ErrorCode.Forbidden:
      return { status: 403, message: '权限不足' };
    case ErrorCode.NotFound:
      return { status: 404, message: '资源不存在' };
    case ErrorCode.Conflict:
      return { status: 409, message: '资源冲突' };
    case ErrorCode.PayloadTooLarge:
      return { status: 413, message: '请求体过大' };
    case ErrorCode.TooManyRequests:
      return { status: 429, message: '请求过于频繁' };
    case ErrorCode.Internal:
      return { status: 500, message: '服务器内部错误' };
    case ErrorCode.ServiceUnavailable:
      return { status: 503, message: '服务暂不可用' };
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

/** Maps an HTTP status (from Nest or a library) back to the contract's code. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode.BadRequest;
    case 401:
      return ErrorCode.Unauthorized;
    case 403:
      return ErrorCode.Forbidden;
    case 404:
    case 405:
      return ErrorCode.NotFound;
    case 409:
      return ErrorCode.Conflict;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 429:
      return ErrorCode.TooManyRequests;
    case 503:
      return ErrorCode.ServiceUnavailable;
    default:
      return status >= 400 && status < 500 ? ErrorCode.BadRequest : ErrorCode.Internal;
  }
}
