import { existsSync } from 'node:fs';

/**
 * The environment variables of CONTRACT §6 (plus a few tuning knobs), parsed and validated once.
 * This folder is the only place that reads `process.env`.
 */
export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Env {
  NODE_ENV: NodeEnv;
  PORT: number;
  DATABASE_URL: string;
  JWT_SECRET: string | undefined;
  JWT_EXPIRES_IN: number;
  REDIS_URL: string | undefined;
  CORS_ORIGINS: string[] | '*';
  LOG_LEVEL: LogLevel;
  BCRYPT_ROUNDS: number;
  BODY_LIMIT: number;
  GROUP_MAX_MEMBERS: number;
  TYPING_RATE_LIMIT: number;
  RATE_LIMIT_REGISTER: RateLimit;
  RATE_LIMIT_LOGIN: RateLimit;
  RATE_LIMIT_MESSAGES: RateLimit;
  RATE_LIMIT_UPLOADS: RateLimit;
  UPLOAD_DIR: string;
  UPLOAD_MAX_BYTES: number;
  UPLOAD_TYPES: string[];
  TRUST_PROXY: boolean | number | string;
}

/** `count` events per `seconds`. */
export interface RateLimit {
  count: number;
  seconds: number;
}

/** A configuration error names the variable; `main.ts` prints it as one line and exits. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

type RawEnv = Record<string, string | undefined>;

function str(raw: RawEnv, name: string): string | undefined {
  const value = raw[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function int(raw: RawEnv, name: string, def: number, min: number, max: number): number {
  const value = str(raw, name);
  if (value === undefined) return def;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return Number(value);
}

function oneOf<T extends string>(raw: RawEnv, name: string, def: T, allowed: readonly T[]): T {
  const value = str(raw, name);
  if (value === undefined) return def;
  if (!allowed.includes(value as T)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

function size(raw: RawEnv, name: string, def: number, max: number): number {
  const value = str(raw, name);
  if (value === undefined) return def;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(value);
  const bytes = match ? Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] : NaN;
  if (!Number.isFinite(bytes) || bytes < 1024 || bytes > max) {
    throw new ConfigError(name, `must be a size like 100kb or 1mb, from 1kb to ${max / 1048576}mb`);
  }
  return bytes;
}

function databaseUrl(raw: RawEnv): string {
  const value = str(raw, 'DATABASE_URL') ?? 'sqlite:data/chat.sqlite';
  if (/^sqlite:.+/.test(value)) return value;
  if (/^(mysql|mariadb):\/\//.test(value)) {
    try {
      const url = new URL(value);
      if (url.hostname && url.pathname.length > 1) return value;
    } catch {
      // reported below
    }
  }
  throw new ConfigError(
    'DATABASE_URL',
    'must be mysql://user:pass@host:3306/db or sqlite:<file> (got an unsupported value)',
  );
}

function redisUrl(raw: RawEnv): string | undefined {
  const value = str(raw, 'REDIS_URL');
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if ((url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname) return value;
  } catch {
    // reported below
  }
  throw new ConfigError('REDIS_URL', 'must be redis://host:port or rediss://host:port');
}

function corsOrigins(raw: RawEnv, nodeEnv: NodeEnv): string[] | '*' {
  const value = str(raw, 'CORS_ORIGINS');
  if (value === undefined) return nodeEnv === 'production' ? [] : '*';
  if (value === '*') return '*';
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let ok = false;
    try {
      const url = new URL(origin);
      ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `must be * or a comma-separated list of origins like https://app.example.com (bad: "${origin}")`,
      );
    }
  }
  return origins;
}

function jwtSecret(raw: RawEnv, nodeEnv: NodeEnv): string | undefined {
  const value = str(raw, 'JWT_SECRET');
  if (value === undefined) {
    if (nodeEnv === 'production') {
      throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
    }
    return undefined;
  }
  if (value.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  return value;
}

function rate(raw: RawEnv, name: string, def: RateLimit): RateLimit {
  const value = str(raw, name);
  if (value === undefined) return def;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const count = match ? Number(match[1]) : 0;
  const seconds = match ? Number(match[2]) : 0;
  if (count < 1 || seconds < 1 || seconds > 86400) {
    throw new ConfigError(name, `must be <count>/<seconds>, like 10/60 (got "${value}")`);
  }
  return { count, seconds };
}

export const DEFAULT_UPLOAD_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'application/zip',
  'audio/mpeg',
  'video/mp4',
];

function mimeList(raw: RawEnv): string[] {
  const value = str(raw, 'UPLOAD_TYPES');
  if (value === undefined) return DEFAULT_UPLOAD_TYPES;
  const types = value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const bad = types.find((t) => !DEFAULT_UPLOAD_TYPES.includes(t));
  if (bad !== undefined || types.length === 0) {
    throw new ConfigError(
      'UPLOAD_TYPES',
      `must be a comma-separated subset of ${DEFAULT_UPLOAD_TYPES.join(',')} (bad: "${bad ?? value}")`,
    );
  }
  return types;
}

/** Proxies trusted for client IPs (Fastify `trustProxy`): false, a hop count, or addresses/subnets/keywords. */
function trustProxy(raw: RawEnv): boolean | number | string {
  const value = str(raw, 'TRUST_PROXY');
  if (value === undefined) return 'loopback';
  if (value === 'false') return false;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const parts = value.split(',').map((p) => p.trim());
  const ok = parts.every(
    (p) =>
      ['loopback', 'linklocal', 'uniquelocal'].includes(p) ||
      /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(p),
  );
  if (!ok) {
    throw new ConfigError(
      'TRUST_PROXY',
      'must be false, a hop count, or comma-separated addresses/subnets (loopback, 10.0.0.0/8, ...)',
    );
  }
  return parts.join(',');
}

export function validateEnv(raw: RawEnv): Env {
  const NODE_ENV = oneOf<NodeEnv>(raw, 'NODE_ENV', 'development', [
    'development',
    'production',
    'test',
  ]);
  return {
    NODE_ENV,
    PORT: int(raw, 'PORT', 3000, 0, 65535),
    DATABASE_URL: databaseUrl(raw),
    JWT_SECRET: jwtSecret(raw, NODE_ENV),
    JWT_EXPIRES_IN: int(raw, 'JWT_EXPIRES_IN', 86400, 60, 365 * 86400),
    REDIS_URL: redisUrl(raw),
    CORS_ORIGINS: corsOrigins(raw, NODE_ENV),
    LOG_LEVEL: oneOf<LogLevel>(raw, 'LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ]),
    BCRYPT_ROUNDS: int(raw, 'BCRYPT_ROUNDS', 10, 4, 15),
    BODY_LIMIT: size(raw, 'BODY_LIMIT', 100 * 1024, 50 * 1024 * 1024),
    GROUP_MAX_MEMBERS: int(raw, 'GROUP_MAX_MEMBERS', 2000, 2, 100000),
    TYPING_RATE_LIMIT: int(raw, 'TYPING_RATE_LIMIT', 10, 1, 1000),
    RATE_LIMIT_REGISTER: rate(raw, 'RATE_LIMIT_REGISTER', { count: 200, seconds: 600 }),
    RATE_LIMIT_LOGIN: rate(raw, 'RATE_LIMIT_LOGIN', { count: 10, seconds: 900 }),
    RATE_LIMIT_MESSAGES: rate(raw, 'RATE_LIMIT_MESSAGES', { count: 1200, seconds: 60 }),
    RATE_LIMIT_UPLOADS: rate(raw, 'RATE_LIMIT_UPLOADS', { count: 60, seconds: 600 }),
    UPLOAD_DIR: str(raw, 'UPLOAD_DIR') ?? 'data/uploads',
    UPLOAD_MAX_BYTES: size(raw, 'UPLOAD_MAX_BYTES', 10 * 1024 * 1024, 100 * 1024 * 1024),
    UPLOAD_TYPES: mimeList(raw),
    TRUST_PROXY: trustProxy(raw),
  };
}

/**
 * Loads an optional `.env` from the working directory into `process.env` (variables already set
 * win). Called by the entry points (`main.ts`, `ormconfig.ts`), not by tests.
 */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** The validated environment of this process. */
export function env(): Env {
  return validateEnv(process.env);
}
