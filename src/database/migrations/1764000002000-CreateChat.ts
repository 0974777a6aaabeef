import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { toUtf8mb4 } from '../migration-helpers';

export class CreateChat1764000002000 implements MigrationInterface {
  name = 'CreateChat1764000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'conversation_key', type: 'varchar', length: '80' },
          { name: 'type', type: 'varchar', length: '8' },
          { name: 'content', type: 'text' },
          { name: 'sender_id', type: 'varchar', length: '36' },
          { name: 'receiver_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'group_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'client_msg_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'IDX_messages_conversation', columnNames: ['conversation_key', 'id'] },
          {
            name: 'UQ_messages_sender_client',
            columnNames: ['sender_id', 'client_msg_id'],
            isUnique: true,
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'conversations',
        columns: [
          { name: 'conversation_key', type: 'varchar', length: '80', isPrimary: true },
          { name: 'type', type: 'varchar', length: '8' },
          { name: 'group_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'user_a', type: 'varchar', length: '36', isNullable: true },
          { name: 'user_b', type: 'varchar', length: '36', isNullable: true },
          { name: 'last_message_id', type: 'varchar', length: '36' },
          { name: 'message_count', type: 'integer', default: 0 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'IDX_conversations_user_a', columnNames: ['user_a'] },
          { name: 'IDX_conversations_user_b', columnNames: ['user_b'] },
          { name: 'IDX_conversations_group', columnNames: ['group_id'] },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'read_marks',
        columns: [
          { name: 'conversation_key', type: 'varchar', length: '80', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '36' },
          { name: 'read_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          {
            name: 'IDX_read_marks_conversation_message',
            columnNames: ['conversation_key', 'message_id'],
          },
        ],
      }),
    );
    await toUtf8mb4(queryRunner, ['messages', 'conversations', 'read_marks']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('read_marks');
    await queryRunner.dropTable('conversations');
    await queryRunner.dropTable('messages');
  }
}
