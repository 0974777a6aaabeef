import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';

export const TEST_JWT_SECRET = 'e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  http: TestAgent;
  dataSource: DataSource;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Use this database (owned by the caller) instead of a fresh one: several instances of one deployment. */
  databaseUrl?: string;
  /** Extra controllers mounted beside the real modules (e.g. to provoke an unexpected error). */
  controllers?: Type<unknown>[];
}

/** `E2E_DB=mysql` runs the suites on MariaDB/MySQL (a fresh database per suite), else SQLite. */
export const onMysql = process.env.E2E_DB === 'mysql';
const mysqlServer = process.env.E2E_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

async function mysqlAdmin<T>(fn: (conn: import('mysql2/promise').Connection) => Promise<T>) {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection(mysqlServer);
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

export async function freshDatabase(
  existing?: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (existing) return { url: existing, drop: () => Promise.resolve() };
  if (onMysql) {
    const name = `im_e2e_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await mysqlAdmin((c) => c.query(`CREATE DATABASE \`${name}\``));
    return {
      url: `${mysqlServer.replace(/\/$/, '')}/${name}`,
      drop: () => mysqlAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${name}\``)).then(() => {}),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'im-e2e-'));
  return {
    url: `sqlite:${join(dir, 'chat.sqlite')}`,
    drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** Boots the real AppModule, configured exactly as `main.ts` does, on a random local port. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = await freshDatabase(options.databaseUrl);
  const uploads = mkdtempSync(join(tmpdir(), 'im-uploads-'));
  const overridden = Object.keys(options.env ?? {});
  const saved = Object.fromEntries(overridden.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    UPLOAD_DIR: uploads,
    ...options.env,
  });
  const { AppModule } = await import('../../src/app.module');
  const { configureApp, createHttpAdapter } = await import('../../src/app.setup');
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule],
    controllers: options.controllers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), {
    bodyParser: false,
    bufferLogs: true,
  });
  await configureApp(app);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    http: request(url),
    dataSource: app.get(DataSource),
    databaseUrl: db.url,
    close: async () => {
      await app.close();
      await db.drop();
      rmSync(uploads, { recursive: true, force: true });
      for (const key of overridden) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    },
  };
}
