import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { toUtf8mb4 } from '../migration-helpers';

export class CreateGroups1764000001000 implements MigrationInterface {
  name = 'CreateGroups1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'groups',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'description', type: 'varchar', length: '500' },
          { name: 'avatar', type: 'varchar', length: '1024', isNullable: true },
          { name: 'creator_id', type: 'varchar', length: '36' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'group_members',
        columns: [
          { name: 'group_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'role', type: 'varchar', length: '8' },
          { name: 'joined_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'IDX_group_members_user', columnNames: ['user_id'] },
          { name: 'IDX_group_members_group_joined', columnNames: ['group_id', 'joined_at'] },
        ],
      }),
    );
    await toUtf8mb4(queryRunner, ['groups', 'group_members']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('group_members');
    await queryRunner.dropTable('groups');
  }
}
