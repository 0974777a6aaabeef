import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const MESSAGE_TYPES = ['text', 'image', 'file'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/**
 * A message. `id` is a UUIDv7 (time-ordered), so sorting by id is sorting by send order and
 * history is one range scan of (conversation_key, id).
 */
@Entity('messages')
@Index('IDX_messages_conversation', ['conversationKey', 'id'])
@Index('UQ_messages_sender_client', ['senderId', 'clientMsgId'], { unique: true })
export class Message {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** `p:<smaller user id>:<larger user id>` or `g:<group id>`. */
  @Column({ name: 'conversation_key', type: 'varchar', length: 80 })
  conversationKey: string;

  @Column({ type: 'varchar', length: 8 })
  type: MessageType;

  @Column({ type: 'text' })
  content: string;

  @Column({ name: 'sender_id', type: 'varchar', length: 36 })
  senderId: string;

  @Column({ name: 'receiver_id', type: 'varchar', length: 36, nullable: true })
  receiverId: string | null;

  @Column({ name: 'group_id', type: 'varchar', length: 36, nullable: true })
  groupId: string | null;

  @Column({ name: 'client_msg_id', type: 'varchar', length: 64, nullable: true })
  clientMsgId: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;
}
