import { QueryRunner } from 'typeorm';

/**
 * On MySQL/MariaDB, makes the tables utf8mb4 with binary comparison whatever the database's
 * default charset is, so emoji and CJK text round-trip and equality behaves as on SQLite
 * (keys that must be case-insensitive are stored lower-cased). No-op on SQLite.
 */
export async function toUtf8mb4(queryRunner: QueryRunner, tables: string[]): Promise<void> {
  const type = queryRunner.connection.options.type;
  if (type !== 'mysql' && type !== 'mariadb') return;
  for (const table of tables) {
    await queryRunner.query(
      `ALTER TABLE \`${table}\` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
  }
}
