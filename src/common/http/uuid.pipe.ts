import { ArgumentMetadata, Injectable, ParseUUIDPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

/** Parses a UUID path parameter (lower-cased); anything else is a 400 in the contract's shape. */
@Injectable()
export class UuidPipe extends ParseUUIDPipe {
  constructor() {
    super({
      exceptionFactory: () => AppException.badRequest('id must be a UUID'),
    });
  }

  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    try {
      const id = await super.transform(value, metadata);
      return id.toLowerCase();
    } catch {
      throw AppException.badRequest(`${metadata.data ?? 'id'} must be a UUID`);
    }
  }
}
