import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

function collect(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      // class-validator's messages start with the property name; nested ones get their path.
      const constraints = Object.values(error.constraints);
      out.push(...constraints.map((c) => (parent ? `${parent}.${c}` : c)));
    }
    if (error.children?.length) out.push(...collect(error.children, path));
  }
  return out;
}

/** Formats class-validator errors as one readable line: `email must be an email; ...`. */
export function formatValidationErrors(errors: ValidationError[]): string {
  const messages = collect(errors);
  return messages.length ? messages.join('; ') : 'invalid request';
}

/** The single validation pipe of the application (HTTP and sockets). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => AppException.badRequest(formatValidationErrors(errors)),
  });
}
