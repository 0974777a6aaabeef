import type { FastifyRequest } from 'fastify';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import type { IncomingFile } from './files.service';

/**
 * The one file of a multipart upload, read into memory within the limits registered with
 * @fastify/multipart (size, one file, a few fields): undefined when the request carries no
 * file. The whole request is read, so a second file or too many parts is refused too.
 */
export async function readUpload(
  request: FastifyRequest,
  field: string,
): Promise<IncomingFile | undefined> {
  if (!request.isMultipart()) return undefined;
  let file: IncomingFile | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== field) {
        throw AppException.badRequest(
          `unexpected file field "${part.fieldname}" (expected "${field}")`,
        );
      }
      const buffer = await part.toBuffer();
      file = { originalname: part.filename, mimetype: part.mimetype, size: buffer.length, buffer };
    }
  } catch (err) {
    throw uploadError(err);
  }
  return file;
}

/**
 * What went wrong reading the body, as the contract's errors: @fastify/multipart's limits
 * (code FST_*, status 413) are 413; anything else the parser throws (busboy's "Boundary not
 * found", "Unexpected end of multipart data", a bad part header...) is the client's body: 400.
 */
function uploadError(err: unknown): AppException {
  if (err instanceof AppException) return err;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (e?.code === 'FST_REQ_FILE_TOO_LARGE') {
    return new AppException(ErrorCode.PayloadTooLarge, 'file too large');
  }
  if (typeof e?.code === 'string' && e.code.startsWith('FST_') && e.statusCode === 413) {
    return new AppException(ErrorCode.PayloadTooLarge, 'too many parts: one file, few fields');
  }
  return AppException.badRequest('malformed multipart body');
}
