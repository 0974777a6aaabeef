import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { Trim } from './transform';

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

/**
 * An optional avatar-like field: an http(s) URL or upload path, ≤ 1024 characters, `null` to
 * clear it; validated and documented by one decorator.
 */
export function OptionalMediaUrl(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      example: 'https://cdn.example.com/a.png',
      nullable: true,
      type: String,
      description,
    }),
    IsOptional(),
    Trim(),
    IsString(),
    MaxLength(1024),
    IsMediaUrl(),
  );
}
