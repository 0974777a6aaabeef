import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PoolOptions } from 'mysql2';
import type { DataSourceOptions } from 'typeorm';
import { migrations } from './migrations';

export type DatabaseKind = 'mysql' | 'sqlite';

export function databaseKind(url: string): DatabaseKind {
  return url.startsWith('sqlite:') ? 'sqlite' : 'mysql';
}

/**
 * The TypeORM options for a DATABASE_URL, shared by the application and the CLI data source
 * (`ormconfig.ts`). The schema comes from migrations only; `synchronize` is never on.
 */
export function buildDataSourceOptions(
  url: string,
  flavor: 'mysql' | 'mariadb' = 'mysql',
): DataSourceOptions {
  const common = {
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  } as const;

  if (databaseKind(url) === 'sqlite') {
    const file = resolve(url.slice('sqlite:'.length));
    mkdirSync(dirname(file), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      enableWAL: true,
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        db.pragma('busy_timeout = 5000');
        db.pragma('synchronous = NORMAL');
      },
    };
  }

  return {
    ...common,
    type: flavor,
    url: url.replace(/^mariadb:/, 'mysql:'),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    connectTimeout: 5000,
    extra: {
      connectionLimit: 20,
      waitForConnections: true,
      enableKeepAlive: true,
      // mysql2 records a stack trace for every query otherwise (~3 % of server CPU under load);
      // its errors are never shown to clients, and they are logged with their SQL code.
      trace: false,
    },
  };
}

/**
 * Options for a mysql2 pool of our own beside TypeORM's (the message writer's), matching how
 * TypeORM's pool talks to the server: same charset, UTC datetimes, timeouts and keep-alive.
 */
export function mysqlPoolOptions(url: string): PoolOptions {
  return {
    uri: url.replace(/^mariadb:/, 'mysql:'),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    connectTimeout: 5000,
    enableKeepAlive: true,
    waitForConnections: true,
    trace: false,
  };
}

/**
 * Whether a mysql:// server is MySQL or MariaDB. TypeORM reads the schema of the two differently
 * (e.g. MariaDB reports `DEFAULT NULL` as the text NULL), so it must be told which one it talks
 * to. `mariadb://` says so outright; otherwise the server is asked. If it cannot be reached yet,
 * MySQL is assumed: queries are the same, only schema introspection differs.
 */
export async function detectMysqlFlavor(url: string): Promise<'mysql' | 'mariadb'> {
  if (url.startsWith('mariadb:')) return 'mariadb';
  const mysql = await import('mysql2/promise');
  try {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    try {
      const [rows] = await conn.query<import('mysql2').RowDataPacket[]>('SELECT VERSION() AS v');
      return String(rows[0]?.v ?? '').includes('MariaDB') ? 'mariadb' : 'mysql';
    } finally {
      await conn.end();
    }
  } catch {
    return 'mysql';
  }
}

/** The options for a DATABASE_URL, with the MySQL flavour detected. */
export async function resolveDataSourceOptions(url: string): Promise<DataSourceOptions> {
  if (databaseKind(url) === 'sqlite') return buildDataSourceOptions(url);
  return buildDataSourceOptions(url, await detectMysqlFlavor(url));
}
