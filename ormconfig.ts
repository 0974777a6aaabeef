import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { env } from './src/config/env.validation';
import { buildDataSourceOptions } from './src/database/data-source-options';

/**
 * The data source of the TypeORM CLI (`npm run migration:run|revert|generate`), built from the
 * same options and DATABASE_URL as the application.
 */
export default new DataSource({
  ...buildDataSourceOptions(env().DATABASE_URL),
  entities: [`${__dirname}/src/**/*.entity.{ts,js}`],
});
