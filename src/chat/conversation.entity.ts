import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per conversation that has messages, kept current with every send: the newest
 * message and the message count (history `total` without counting), and who it is between.
 */
@Entity('conversations')
@Index('IDX_conversations_user_a_updated', ['userA', 'updatedAt', 'key'])
@Index('IDX_conversations_user_b_updated', ['userB', 'updatedAt', 'key'])
@Index('IDX_conversations_group', ['groupId'])
export class Conversation {
  @PrimaryColumn({ name: 'conversation_key', type: 'varchar', length: 80 })
  key: string;

  @Column({ type: 'varchar', length: 8 })
  type: 'private' | 'group';

  @Column({ name: 'group_id', type: 'varchar', length: 36, nullable: true })
  groupId: string | null;

  /** The smaller user id of a private conversation. */
  @Column({ name: 'user_a', type: 'varchar', length: 36, nullable: true })
  userA: string | null;

  /** The larger user id of a private conversation. */
  @Column({ name: 'user_b', type: 'varchar', length: 36, nullable: true })
  userB: string | null;

  @Column({ name: 'last_message_id', type: 'varchar', length: 36 })
  lastMessageId: string;

  @Column({ name: 'message_count', type: 'int', default: 0 })
  messageCount: number;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
