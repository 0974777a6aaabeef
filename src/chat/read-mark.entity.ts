import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * How far a user has read a conversation: every message up to and including `message_id`.
 * One row per (conversation, reader), whatever the number of messages; it only moves forward.
 */
@Entity('read_marks')
@Index('IDX_read_marks_conversation_message', ['conversationKey', 'messageId'])
export class ReadMark {
  @PrimaryColumn({ name: 'conversation_key', type: 'varchar', length: 80 })
  conversationKey: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ name: 'message_id', type: 'varchar', length: 36 })
  messageId: string;

  /** When the mark last moved forward. */
  @Column({ name: 'read_at', type: 'datetime', precision: 3 })
  readAt: Date;
}
