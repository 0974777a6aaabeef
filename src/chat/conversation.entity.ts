import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per conversation that has messages, kept current with every send: the newest
 * message and the message count (history `total` without counting), and who it is between.
 */
@Entity('conversations')
@Index('IDX_conversations_user_a_active', ['userA', 'activeSecond', 'key'])
@Index('IDX_conversations_user_b_active', ['userB', 'activeSecond', 'key'])
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

  /**
   * `updatedAt` in whole seconds (Unix time): what the per-user indexes order by. A send
   * changes it at most once a second, so most sends leave those indexes alone.
   */
  @Column({ name: 'active_second', type: 'int', unsigned: true, default: 0 })
  activeSecond: number;
}

/** The `active_second` of a conversation whose newest batch began at `at`. */
export function activeSecond(at: Date | number): number {
  return Math.floor(Number(at) / 1000);
}
