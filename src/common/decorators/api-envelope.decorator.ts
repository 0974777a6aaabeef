import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../dto/error-response.dto';
import { describeError, ErrorCode } from '../errors/error-code';

/** Documents a 200 answer `{code:200, message:"success", data:<model>}` (or `data: null`). */
export function ApiEnvelope(model: Type<unknown> | null, description = 'Success'): MethodDecorator {
  const data = model
    ? { $ref: getSchemaPath(model) }
    : { type: 'object', nullable: true, example: null };
  const decorators = [
    ApiOkResponse({
      description,
      schema: {
        type: 'object',
        required: ['code', 'message', 'data'],
        properties: {
          code: { type: 'integer', example: 200 },
          message: { type: 'string', example: 'success' },
          data,
        },
      },
    }),
  ];
  if (model) decorators.unshift(ApiExtraModels(model));
  return applyDecorators(...decorators);
}

const EXAMPLES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.BadRequest]: 'name must be a string (names the field and the rule)',
  [ErrorCode.Unauthorized]: 'invalid or missing token',
  [ErrorCode.LoginFailed]: '邮箱或密码错误',
  [ErrorCode.Forbidden]: 'not a member of this group',
  [ErrorCode.NotFound]: 'group not found (names what is missing)',
  [ErrorCode.Conflict]: 'email already registered',
  [ErrorCode.PayloadTooLarge]: 'request body too large',
  [ErrorCode.TooManyRequests]: 'too many requests, retry later',
  [ErrorCode.ServiceUnavailable]: 'database unavailable, retry later',
};

/** Documents the error answers a route can give, in the contract's error shape. */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...codes.map((code) => {
      const { status, message } = describeError(code);
      return ApiResponse({
        status,
        description: message,
        schema: {
          allOf: [{ $ref: getSchemaPath(ErrorResponseDto) }],
          example: { code: status, message, error: EXAMPLES[code] ?? message },
        },
      });
    }),
  );
}

/** A route that needs `Authorization: Bearer <token>` (the global guard enforces it). */
export function ApiAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors(ErrorCode.Unauthorized));
}
