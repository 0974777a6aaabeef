import {
  HttpException,
  BadRequestException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppException } from './app.exception';
import { resolveError } from './error-body';
import { ErrorCode } from './error-code';

describe('resolveError', () => {
  it.each([
    [ErrorCode.BadRequest, 400, '请求参数错误'],
    [ErrorCode.Unauthorized, 401, '未授权或 token 无效'],
    [ErrorCode.LoginFailed, 401, '登录失败'],
    [ErrorCode.Forbidden, 403, '权限不足'],
    [ErrorCode.NotFound, 404, '资源不存在'],
    [ErrorCode.Conflict, 409, '资源冲突'],
    [ErrorCode.PayloadTooLarge, 413, '请求体过大'],
    [ErrorCode.TooManyRequests, 429, '请求过于频繁'],
    [ErrorCode.ServiceUnavailable, 503, '服务暂不可用'],
  ])('maps %s to %d %s', (code, status, message) => {
    expect(resolveError(new AppException(code, 'why')).body).toEqual({
      code: status,
      message,
      error: 'why',
    });
  });

  it("keeps Nest's client-error texts", () => {
    expect(resolveError(new NotFoundException('Cannot GET /x')).body).toEqual({
      code: 404,
      message: '资源不存在',
      error: 'Cannot GET /x',
    });
    expect(resolveError(new BadRequestException(['a is bad', 'b is bad'])).body.error).toBe(
      'a is bad; b is bad',
    );
  });

  it("answers Fastify's body limit (as Nest hands it over) in the contract's words", () => {
    expect(resolveError(new HttpException('Request body is too large', 413)).body).toEqual({
      code: 413,
      message: '请求体过大',
      error: 'request body too large',
    });
  });

  it('hides unexpected errors and driver messages behind a request id', () => {
    const resolved = resolveError(
      new QueryFailedError('SELECT * FROM users', [], new Error('ER_BAD_FIELD')),
      'rid-1',
    );
    expect(resolved).toEqual({
      unexpected: true,
      body: { code: 500, message: '服务器内部错误', error: 'unexpected error, request id rid-1' },
    });
  });

  it('answers 503 when the database cannot be reached', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
    });
    expect(resolveError(refused).body).toEqual({
      code: 503,
      message: '服务暂不可用',
      error: 'database unavailable, retry later',
    });
    expect(resolveError(new ServiceUnavailableException()).body.code).toBe(503);
  });
});
