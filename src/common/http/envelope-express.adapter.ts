import { StreamableFile } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Response } from 'express';
import { envelope } from './envelope';

/**
 * The Express adapter, with every successful handler result sent in the contract's envelope
 * (CONTRACT §1); files (StreamableFile) are sent as themselves. Errors are the global
 * exception filter's to write; an error status that reaches here anyway is not wrapped.
 *
 * This is the job of a global interceptor, done where Nest hands the result to Express:
 * any interceptor puts Nest's rxjs pipeline and two AsyncResource bindings on every request,
 * about 45 µs of server CPU per message sent over HTTP.
 */
export class EnvelopeExpressAdapter extends ExpressAdapter {
  override reply(response: Response, body: unknown, statusCode?: number): unknown {
    const success = (statusCode ?? response.statusCode) < 400;
    return super.reply(
      response,
      success && !(body instanceof StreamableFile) ? envelope(body) : body,
      statusCode,
    ) as unknown;
  }
}
