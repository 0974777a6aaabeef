import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  StreamableFile,
} from '@nestjs/common';
import { map, Observable } from 'rxjs';

export interface Envelope<T> {
  code: 200;
  message: 'success';
  data: T;
}

export function envelope<T>(data: T): Envelope<T> {
  return { code: 200, message: 'success', data: (data ?? null) as T };
}

/** Wraps every successful HTTP result in the contract's envelope (CONTRACT §1). */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    // Files are sent as themselves; everything else in the envelope.
    return next
      .handle()
      .pipe(map((data: unknown) => (data instanceof StreamableFile ? data : envelope(data))));
  }
}
