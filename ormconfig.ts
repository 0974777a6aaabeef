import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { env, loadDotEnv } from './src/config/env.validation';
import { resolveDataSourceOptions } from './src/database/data-source-options';

/**
 * The data source of the TypeORM CLI (`npm run migration:run|revert|generate`), built from the
 * same options and DATABASE_URL as the application.
 */
loadDotEnv();

export default resolveDataSourceOptions(env().DATABASE_URL).then(
  (options) =>
    new DataSource({
      ...options,
      entities: [`${__dirname}/src/**/*.entity.{ts,js}`],
    }),
);
