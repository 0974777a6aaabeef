import { Logger } from '@nestjs/common';
import { ConfigType, registerAs } from '@nestjs/config';
import { createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { env } from './env.validation';

/** Where a development secret is kept: beside the SQLite file (or in `data/`). */
export function generatedSecretPath(databaseUrl: string): string {
  const dir = databaseUrl.startsWith('sqlite:')
    ? dirname(resolve(databaseUrl.slice('sqlite:'.length)))
    : resolve('data');
  return join(dir, 'jwt-secret');
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept on disk, so tokens survive
 * restarts; production refuses to start without one (see validateEnv).
 */
export function loadOrCreateSecret(path: string): string {
  if (existsSync(path)) {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing.length >= 32) return existing;
  }
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export const authConfig = registerAs('auth', () => {
  const e = env();
  let secret = e.JWT_SECRET;
  if (!secret) {
    const path = generatedSecretPath(e.DATABASE_URL);
    secret = loadOrCreateSecret(path);
    new Logger('Config').warn(
      `JWT_SECRET is not set: using the generated secret in ${path} (set JWT_SECRET in production)`,
    );
  }
  return {
    jwtSecret: secret,
    /**
     * The secret as a KeyObject, made once: given a string, jsonwebtoken re-derives a key object
     * on every sign and verify (first trying it as a PEM public key), which costs far more than
     * the HMAC itself.
     */
    jwtKey: createSecretKey(Buffer.from(secret, 'utf8')),
    jwtExpiresIn: e.JWT_EXPIRES_IN,
    bcryptRounds: e.BCRYPT_ROUNDS,
  };
});

export type AuthConfig = ConfigType<typeof authConfig>;
