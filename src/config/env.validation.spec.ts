import { ConfigError, DEFAULT_UPLOAD_TYPES, validateEnv } from './env.validation';

describe('validateEnv', () => {
  it('applies the documented defaults', () => {
    expect(validateEnv({})).toEqual({
      NODE_ENV: 'development',
      PORT: 3000,
      DATABASE_URL: 'sqlite:data/chat.sqlite',
      JWT_SECRET: undefined,
      JWT_EXPIRES_IN: 86400,
      REDIS_URL: undefined,
      CORS_ORIGINS: '*',
      LOG_LEVEL: 'info',
      BCRYPT_ROUNDS: 10,
      BODY_LIMIT: 100 * 1024,
      GROUP_MAX_MEMBERS: 2000,
      TYPING_RATE_LIMIT: 10,
      RATE_LIMIT_REGISTER: { count: 200, seconds: 600 },
      RATE_LIMIT_LOGIN: { count: 10, seconds: 900 },
      RATE_LIMIT_MESSAGES: { count: 1200, seconds: 60 },
      RATE_LIMIT_UPLOADS: { count: 60, seconds: 600 },
      UPLOAD_DIR: 'data/uploads',
      UPLOAD_MAX_BYTES: 10 * 1024 * 1024,
      UPLOAD_TYPES: DEFAULT_UPLOAD_TYPES,
      TRUST_PROXY: 'loopback',
    });
  });

  it('parses valid values', () => {
    const env = validateEnv({
      NODE_ENV: 'production',
      PORT: '8080',
      DATABASE_URL: 'mysql://app:pw@db:3306/chat',
      JWT_SECRET: 'x'.repeat(32),
      JWT_EXPIRES_IN: '3600',
      REDIS_URL: 'redis://cache:6379',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
      LOG_LEVEL: 'debug',
      BCRYPT_ROUNDS: '12',
      BODY_LIMIT: '1mb',
    });
    expect(env).toMatchObject({
      PORT: 8080,
      JWT_EXPIRES_IN: 3600,
      CORS_ORIGINS: ['https://a.example.com', 'http://localhost:5173'],
      BCRYPT_ROUNDS: 12,
      BODY_LIMIT: 1024 * 1024,
    });
  });

  it('allows no cross-origin calls by default in production', () => {
    expect(
      validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).CORS_ORIGINS,
    ).toEqual([]);
  });

  it.each([
    ['NODE_ENV', { NODE_ENV: 'staging' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '80a' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://x/y' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://host-without-db' }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['JWT_SECRET', { NODE_ENV: 'production' }],
    ['JWT_EXPIRES_IN', { JWT_EXPIRES_IN: '1d' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://a.example.com/path' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['BCRYPT_ROUNDS', { BCRYPT_ROUNDS: '3' }],
    ['BODY_LIMIT', { BODY_LIMIT: 'lots' }],
    ['GROUP_MAX_MEMBERS', { GROUP_MAX_MEMBERS: '1' }],
    ['RATE_LIMIT_LOGIN', { RATE_LIMIT_LOGIN: '10 per minute' }],
    ['RATE_LIMIT_MESSAGES', { RATE_LIMIT_MESSAGES: '0/60' }],
    ['UPLOAD_TYPES', { UPLOAD_TYPES: 'image/png, not a type' }],
    ['UPLOAD_MAX_BYTES', { UPLOAD_MAX_BYTES: 'huge' }],
    ['UPLOAD_TYPES', { UPLOAD_TYPES: 'image/svg+xml' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'everyone' }],
  ])('names %s when its value is bad', (variable, raw) => {
    let error: unknown;
    try {
      validateEnv(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable} `));
    expect((error as ConfigError).message).not.toContain('\n');
  });
});
