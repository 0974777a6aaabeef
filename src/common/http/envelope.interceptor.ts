import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
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
    return next.handle().pipe(map((data: unknown) => envelope(data)));
  }
}
