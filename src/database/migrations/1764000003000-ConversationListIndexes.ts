import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/**
 * The conversation list reads a user's newest conversations on each side (user_a, user_b):
 * indexes in that order let it read just the page's rows instead of sorting them all.
 */
export class ConversationListIndexes1764000003000 implements MigrationInterface {
  name = 'ConversationListIndexes1764000003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const side of ['a', 'b']) {
      await queryRunner.createIndex(
        'conversations',
        new TableIndex({
          name: `IDX_conversations_user_${side}_updated`,
          columnNames: [`user_${side}`, 'updated_at', 'conversation_key'],
        }),
      );
      await queryRunner.dropIndex('conversations', `IDX_conversations_user_${side}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const side of ['a', 'b']) {
      await queryRunner.createIndex(
        'conversations',
        new TableIndex({ name: `IDX_conversations_user_${side}`, columnNames: [`user_${side}`] }),
      );
      await queryRunner.dropIndex('conversations', `IDX_conversations_user_${side}_updated`);
    }
  }
}
