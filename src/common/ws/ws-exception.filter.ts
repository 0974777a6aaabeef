import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { resolveError } from '../errors/error-body';

/**
 * Answers a failed socket event through its ack callback with the contract's error shape
 * (`{code, message, error}`), or as an `exception` event when the client gave no ack. The
 * socket stays connected.
 */
@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const args = host.getArgs<unknown[]>();
    const socket = args[0] as Socket | undefined;
    const ack = args.find((a): a is (body: unknown) => void => typeof a === 'function');
    const requestId = socket?.id;
    const { body, unexpected } = resolveError(exception, requestId);
    if (unexpected) {
      this.logger.error(
        { err: exception, socketId: socket?.id, event: args[args.length - 1] },
        'unexpected socket error',
      );
    }
    try {
      if (ack) ack(body);
      else socket?.emit('exception', body);
    } catch (err) {
      this.logger.warn({ err }, 'could not answer a socket event');
    }
  }
}
