import { ValidateBy, ValidationOptions } from 'class-validator';

/** Paths served by this service's upload endpoint. */
export const UPLOAD_PATH_PREFIX = '/api/v1/files/';
const UPLOAD_PATH = /^\/api\/v1\/files\/[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** An absolute http(s) URL, or a path returned by the upload endpoint. */
export function isMediaUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (UPLOAD_PATH.test(value)) return !value.includes('..');
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

export function IsMediaUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMediaUrl',
      validator: {
        validate: (value: unknown) => isMediaUrl(value),
        defaultMessage: () => '$property must be an http(s) URL or an upload path',
      },
    },
    options,
  );
}
