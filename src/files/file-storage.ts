import type { Readable } from 'node:stream';

/**
 * Where uploaded files live. Local disk by default; an S3-compatible store implements the same
 * three methods (put an object, open it as a stream, say whether it exists).
 */
export interface FileStorage {
  /** Stores the bytes under `key` (a generated name, never the client's). */
  put(key: string, data: Buffer, mime: string): Promise<void>;
  /** The stored bytes, or null when there is no such key. */
  open(key: string): Promise<{ stream: Readable; size: number } | null>;
}

export const FILE_STORAGE = Symbol('FILE_STORAGE');
