import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
export function buildDataSourceOptions(url: string): DataSourceOptions {
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
    type: 'mysql',
    url: url.replace(/^mariadb:/, 'mysql:'),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    connectTimeout: 5000,
    extra: {
      connectionLimit: 20,
      waitForConnections: true,
      enableKeepAlive: true,
    },
  };
}
