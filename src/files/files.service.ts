import { Inject, Injectable } from '@nestjs/common';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import { AppException } from '../common/errors/app.exception';
import { UPLOAD_PATH_PREFIX } from '../common/utils/media-url';
import { filesConfig, FilesConfig } from '../config/files.config';
import { UploadedFileDto } from './dto/uploaded-file.dto';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { RateLimitService } from '../rate-limit/rate-limit.service';

/** The extension a stored file gets for its type (the client's file name is never used). */
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'application/zip': 'zip',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
};
const TYPES_BY_EXTENSION = Object.fromEntries(Object.entries(EXTENSIONS).map(([m, e]) => [e, m]));

/** What the first bytes must be for types that browsers render (so nothing passes as another). */
const SIGNATURES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) =>
    b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) =>
    b.subarray(0, 6).toString('latin1') === 'GIF87a' ||
    b.subarray(0, 6).toString('latin1') === 'GIF89a',
  'image/webp': (b) =>
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'application/zip': (b) => b[0] === 0x50 && b[1] === 0x4b,
};

const STORED_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[a-z0-9]{1,5}$/;

export interface IncomingFile {
  originalname: string;
  mimetype: string;
  size: number;
  buffer: Buffer;
}

@Injectable()
export class FilesService {
  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(filesConfig.KEY) private readonly config: FilesConfig,
    private readonly rateLimit: RateLimitService,
  ) {}

  /** Stores an upload of `userId` (uploads per user are limited: RATE_LIMIT_UPLOADS). */
  async upload(userId: string, file: IncomingFile | undefined): Promise<UploadedFileDto> {
    if (!file) throw AppException.badRequest('file is required (multipart field "file")');
    await this.rateLimit.consume('uploads', userId);
    const mime = file.mimetype.toLowerCase();
    const ext = EXTENSIONS[mime];
    if (!this.config.types.includes(mime) || !ext) {
      throw AppException.badRequest(
        `file type ${mime} is not allowed (allowed: ${this.config.types.join(', ')})`,
      );
    }
    if (file.size === 0) throw AppException.badRequest('file is empty');
    const signature = SIGNATURES[mime];
    if (signature && !signature(file.buffer)) {
      throw AppException.badRequest(`file content is not ${mime}`);
    }
    const key = `${uuidv7()}.${ext}`;
    await this.storage.put(key, file.buffer, mime);
    return {
      url: `${UPLOAD_PATH_PREFIX}${key}`,
      name: displayName(file.originalname, ext),
      size: file.size,
      mime,
    };
  }

  /** A stored file by its generated name; 404 for anything else (no paths, no traversal). */
  async open(key: string): Promise<{ stream: Readable; size: number; mime: string }> {
    if (!STORED_NAME.test(key)) throw AppException.notFound('file not found');
    const mime = TYPES_BY_EXTENSION[extname(key).slice(1)];
    const file = mime ? await this.storage.open(key) : null;
    if (!file) throw AppException.notFound('file not found');
    return { ...file, mime };
  }
}

/** The client's file name reduced to something safe to show: no path, no control characters. */
function displayName(original: string, ext: string): string {
  const base = (original ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    // No control or format characters (bidi overrides could disguise the extension).
    .filter((ch) => !/[\p{Cc}\p{Cf}]/u.test(ch) && !'"<>|:*?'.includes(ch))
    .join('')
    .trim()
    .slice(0, 200);
  return clean || `file.${ext}`;
}
