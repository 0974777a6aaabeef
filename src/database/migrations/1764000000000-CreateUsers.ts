import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { toUtf8mb4 } from '../migration-helpers';

export class CreateUsers1764000000000 implements MigrationInterface {
  name = 'CreateUsers1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'username', type: 'varchar', length: '32' },
          { name: 'username_key', type: 'varchar', length: '64' },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'phone', type: 'varchar', length: '16', isNullable: true },
          { name: 'avatar', type: 'varchar', length: '1024', isNullable: true },
          { name: 'password_hash', type: 'varchar', length: '60' },
          { name: 'token_version', type: 'integer', default: 0 },
          { name: 'last_seen_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'UQ_users_username_key', columnNames: ['username_key'], isUnique: true },
          { name: 'UQ_users_email', columnNames: ['email'], isUnique: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'revoked_tokens',
        columns: [
          { name: 'jti', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'expires_at', type: 'datetime', precision: 3 },
        ],
        indices: [{ name: 'IDX_revoked_tokens_expires_at', columnNames: ['expires_at'] }],
      }),
    );
    await toUtf8mb4(queryRunner, ['users', 'revoked_tokens']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('revoked_tokens');
    await queryRunner.dropTable('users');
  }
}
