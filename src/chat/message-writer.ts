import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { now } from '../common/utils/time';
import { TransactionRunner } from '../database/transaction-runner';
import { privateKey } from './conversation-key';
import { nextMessageId } from './message-id';
import { Message } from './message.entity';

/** A message to store: everything but the id and the time, which are given when it is written. */
export interface NewMessage {
  conversationKey: string;
  receiverId: string | null;
  groupId: string | null;
  type: Message['type'];
  content: string;
  senderId: string;
  clientMsgId: string | null;
}

/** A datetime as SQLite keeps it (UTC text); MySQL drivers take the Date itself. */
function sqlTime(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '');
}

/** At most this many rows go into one INSERT. */
const MAX_BATCH_ROWS = 64;
/** While this many batches are being committed, new messages wait and join the next one. */
const MAX_BATCHES_IN_FLIGHT = 2;

/** A conversation row a batch writes to. */
interface ConversationRow {
  key: string;
  groupId: string | null;
  userA: string | null;
  userB: string | null;
  count: number;
  lastMessageId: string;
}

interface Job {
  message: NewMessage;
  resolve: (m: Message) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for messages. Sends that arrive together are written in one transaction with
 * one multi-row INSERT: a lone message is written at once (on the next turn of the event loop);
 * under load, messages arriving while earlier batches commit are coalesced into the next batch
 * (up to MAX_BATCH_ROWS). Each caller's promise settles only after its row is committed.
 *
 * Ordering: each batch locks the conversation rows it writes to (in key order, so batches
 * cannot deadlock each other), reads their newest message ids and hands out greater ones in
 * arrival order. So within a conversation id order is commit order, and an `after=<id>`
 * reader never misses a message that commits later with a smaller id.
 *
 * A batch that fails is retried message by message, so one bad row (e.g. a duplicate
 * client_msg_id) fails only its own sender and everything else is stored.
 */
@Injectable()
export class MessageWriter {
  private queue: Job[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly tx: TransactionRunner) {}

  /** Stores a message; resolves once it is committed. */
  write(message: NewMessage): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= MAX_BATCHES_IN_FLIGHT) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < MAX_BATCHES_IN_FLIGHT) {
        const batch = this.queue.splice(0, MAX_BATCH_ROWS);
        this.inFlight += 1;
        void this.commit(batch).finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
      }
    });
  }

  private async commit(batch: Job[]): Promise<void> {
    try {
      const stored = await this.tx.run((m) =>
        this.insert(
          m,
          batch.map((j) => j.message),
        ),
      );
      batch.forEach((job, i) => job.resolve(stored[i]));
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      // One at a time, in arrival order, so ids within a conversation keep the send order.
      for (const job of batch) {
        await this.tx
          .run((m) => this.insert(m, [job.message]))
          .then(
            ([stored]) => job.resolve(stored),
            (e: unknown) => job.reject(e),
          );
      }
    }
  }

  /**
   * In one transaction: create or count the conversations (one upsert, which takes their row
   * locks), read their newest ids, insert the messages (one INSERT), move the newest ids.
   */
  private async insert(m: EntityManager, batch: NewMessage[]): Promise<Message[]> {
    const createdAt = now();
    const conversations = new Map<string, { first: NewMessage; count: number }>();
    for (const msg of batch) {
      const c = conversations.get(msg.conversationKey);
      if (c) c.count += 1;
      else conversations.set(msg.conversationKey, { first: msg, count: 1 });
    }
    const keys = [...conversations.keys()].sort();
    const rows = keys.map((key) => {
      const { first, count } = conversations.get(key)!;
      const [userA, userB] =
        first.receiverId !== null
          ? privateKey(first.senderId, first.receiverId).slice(2).split(':')
          : [null, null];
      return { key, groupId: first.groupId, userA, userB, count, lastMessageId: '' };
    });
    await this.upsertConversations(m, rows, createdAt, 'count');
    const inKeys = keys.map(() => '?').join(', ');
    const newest = new Map<string, string>(
      (
        await m.query<{ conversation_key: string; last_message_id: string }[]>(
          `SELECT conversation_key, last_message_id FROM conversations WHERE conversation_key IN (${inKeys})`,
          keys,
        )
      ).map((c) => [c.conversation_key, c.last_message_id]),
    );
    const messages: Message[] = batch.map((msg) => {
      const id = nextMessageId(newest.get(msg.conversationKey) ?? '');
      newest.set(msg.conversationKey, id);
      return { ...msg, id, createdAt };
    });
    const mysql = m.connection.options.type !== 'better-sqlite3';
    await m.query(
      `INSERT INTO messages (id, conversation_key, type, content, sender_id, receiver_id, group_id, client_msg_id, created_at) VALUES ${messages.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      messages.flatMap((r) => [
        r.id,
        r.conversationKey,
        r.type,
        r.content,
        r.senderId,
        r.receiverId,
        r.groupId,
        r.clientMsgId,
        mysql ? createdAt : sqlTime(createdAt),
      ]),
    );
    // An upsert again rather than `UPDATE … WHERE conversation_key IN (…)`: on a small table
    // MariaDB answers that UPDATE with a scan that locks every row it reads, and two batches
    // then deadlock over rows neither writes. The upsert touches exactly its own rows.
    for (const row of rows) row.lastMessageId = newest.get(row.key)!;
    await this.upsertConversations(m, rows, createdAt, 'newest');
    return messages;
  }

  /**
   * One upsert over the batch's conversation rows, in key order. `count`: creates each row
   * with `count` messages or adds `count` (and takes the row locks). `newest`: sets each
   * row's `last_message_id` (the rows exist by then).
   */
  private async upsertConversations(
    m: EntityManager,
    rows: ConversationRow[],
    at: Date,
    change: 'count' | 'newest',
  ): Promise<void> {
    const mysql = m.connection.options.type !== 'better-sqlite3';
    const updatedAt = mysql ? at : sqlTime(at);
    const insert = `INSERT INTO conversations (conversation_key, type, group_id, user_a, user_b, last_message_id, message_count, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    const set =
      change === 'count'
        ? mysql
          ? 'message_count = message_count + VALUES(message_count), updated_at = VALUES(updated_at)'
          : 'message_count = message_count + excluded.message_count, updated_at = excluded.updated_at'
        : mysql
          ? 'last_message_id = VALUES(last_message_id)'
          : 'last_message_id = excluded.last_message_id';
    await m.query(
      mysql
        ? `${insert} ON DUPLICATE KEY UPDATE ${set}`
        : `${insert} ON CONFLICT (conversation_key) DO UPDATE SET ${set}`,
      rows.flatMap((r) => [
        r.key,
        r.groupId ? 'group' : 'private',
        r.groupId,
        r.userA,
        r.userB,
        r.lastMessageId,
        r.count,
        updatedAt,
      ]),
    );
  }
}
