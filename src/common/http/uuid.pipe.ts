import { Injectable, ParseUUIDPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

/** Parses a UUID path parameter; anything else is a 400 in the contract's shape. */
@Injectable()
export class UuidPipe extends ParseUUIDPipe {
  constructor() {
    super({
      exceptionFactory: () => AppException.badRequest('id must be a UUID'),
    });
  }
}
