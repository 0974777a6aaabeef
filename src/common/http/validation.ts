import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import { cacheValidationMetadata } from './validation-metadata-cache';

function collect(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      // One reason per field, the most basic one: "must be a string" before "too long".
      const c = error.constraints[mostBasic(Object.keys(error.constraints))];
      // class-validator's messages start with the property name; nested ones get their path.
      out.push(parent ? `${parent}.${c}` : c);
    }
    if (error.children?.length) out.push(...collect(error.children, path));
  }
  return out;
}

/** Constraint names in the order a client should hear about them. */
const PRIORITY = [
  'whitelistValidation',
  'exactlyOneTarget',
  'isDefined',
  'isString',
  'isInt',
  'isNumber',
  'isArray',
  'isBoolean',
  'isIn',
  'isUuid',
  'isNotEmpty',
  'arrayMinSize',
];

function mostBasic(names: string[]): string {
  let best = names[0];
  let rank = Infinity;
  for (const name of names) {
    const i = PRIORITY.indexOf(name);
    if (i !== -1 && i < rank) {
      rank = i;
      best = name;
    }
  }
  return best;
}

/** Formats class-validator errors as one readable line: `email must be an email; ...`. */
export function formatValidationErrors(errors: ValidationError[]): string {
  const messages = collect(errors);
  return messages.length ? messages.join('; ') : 'invalid request';
}

const OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  validationError: { target: false, value: false },
  exceptionFactory: (errors: ValidationError[]) =>
    AppException.badRequest(formatValidationErrors(errors)),
};

/**
 * The validation of the application (HTTP and sockets): unknown body and payload fields are
 * refused; unknown query parameters (cache-busters, tracking) are dropped, not refused.
 */
export class AppValidationPipe extends ValidationPipe {
  private readonly query = new ValidationPipe({ ...OPTIONS, forbidNonWhitelisted: false });

  constructor() {
    super(OPTIONS);
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return metadata.type === 'query'
      ? this.query.transform(value, metadata)
      : super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new AppValidationPipe();
}
