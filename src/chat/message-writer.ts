import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createPool, Pool, PoolConnection } from 'mysql2/promise';
import { EntityManager, QueryFailedError } from 'typeorm';
import { now, toSqlTime } from '../common/utils/time';
import { databaseConfig, DatabaseConfig } from '../config/database.config';
import { databaseKind, mysqlPoolOptions } from '../database/data-source-options';
import { retryingLockConflicts, TransactionRunner } from '../database/transaction-runner';
import { privateKey } from './conversation-key';
import { activeSecond } from './conversation.entity';
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

/** At most this many rows go into one INSERT. */
const MAX_BATCH_ROWS = 64;
/** At most this many batches commit at once, each on a connection of the writer's own pool. */
const MAX_BATCHES_IN_FLIGHT = 3;
/**
 * New messages wait for the batch being committed and join the next one, unless that batch has
 * been committing this long (a lock wait, say) or a full batch is waiting: then a batch of
 * theirs goes beside it.
 */
const SLOW_BATCH_MS = 20;
/**
 * Ids handed out before the row locks are kept only if the locks came within this long (by
 * the database server's clock): a message must commit soon after its id's time, or a sync
 * reader that has moved past that time on other conversations' messages would miss it.
 */
const MAX_LOCK_WAIT_US = 200_000;

/** A conversation row a batch writes to. */
interface ConversationRow {
  key: string;
  groupId: string | null;
  userA: string | null;
  userB: string | null;
  count: number;
  /** The batch's first and last message ids in this conversation, once assigned. */
  firstMessageId: string;
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
 * under load, messages arriving while a batch commits wait for it and are coalesced into the
 * next batch (up to MAX_BATCH_ROWS), which goes beside it only if it is slow (SLOW_BATCH_MS;
 * at most MAX_BATCHES_IN_FLIGHT batches commit at once). Each caller's promise settles only
 * after its row is committed.
 *
 * Ordering: each batch locks the conversation rows it writes to (in key order, so batches
 * cannot deadlock each other) and commits only ids greater than their newest ones, handed out
 * in arrival order (checked under the locks, else read under them and handed out again). So
 * within a conversation id order is commit order, and an `after=<id>` reader never misses a
 * message that commits later with a smaller id. Ids are taken at most MAX_LOCK_WAIT_US before
 * the locks, so a message commits soon after its id's time (what sync relies on across
 * conversations).
 *
 * A batch the server refuses is retried message by message, so one bad row (e.g. a duplicate
 * client_msg_id) fails only its own sender and everything else is stored. A batch whose
 * connection failed fails as a whole (it may have been committed all the same).
 *
 * On MySQL/MariaDB a batch usually takes one round trip to the server, three when a
 * conversation already holds a newer id or its lock was slow to come (statements sent
 * together on a small pool of the writer's own that allows several statements per query); on
 * SQLite it is an ordinary transaction.
 */
@Injectable()
export class MessageWriter implements OnApplicationShutdown {
  private queue: Job[] = [];
  private scheduled = false;
  /** performance.now() when each batch in flight started, oldest first. */
  private readonly startedAt: number[] = [];
  private get inFlight(): number {
    return this.startedAt.length;
  }
  /** Looks at the queue again when the newest batch in flight turns slow (at slowTimerAt). */
  private slowTimer: NodeJS.Timeout | undefined;
  private slowTimerAt = 0;
  /**
   * MySQL/MariaDB only: the writer's own connections, the only ones with multiple statements
   * per query enabled (every statement sent on them is built here, values as placeholders).
   */
  private readonly pool: Pool | null;

  constructor(
    private readonly tx: TransactionRunner,
    @Inject(databaseConfig.KEY) config: DatabaseConfig,
  ) {
    this.pool = databaseKind(config.url) === 'mysql' ? createWriterPool(config.url) : null;
  }

  /** Lets queued and in-flight batches finish (for at most 10 s), then closes the pool. */
  async onApplicationShutdown(): Promise<void> {
    for (let waited = 0; this.queue.length + this.inFlight > 0 && waited < 10_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.pool?.end().catch(() => undefined);
  }

  /** Stores a message; resolves once it is committed. */
  write(message: NewMessage): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts the next batch (on the next turn of the event loop, so that sends of the same turn
   * share it) when one may start, else makes sure it is looked at again once the batch in
   * flight counts as slow.
   */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    const wait = this.waitBeforeNextBatch();
    if (wait === Infinity) return;
    if (wait > 0) {
      // Armed again only for an earlier time: a batch finishing can leave an older one newest.
      const at = performance.now() + wait;
      if (this.slowTimer === undefined || at < this.slowTimerAt) {
        clearTimeout(this.slowTimer);
        this.slowTimerAt = at;
        this.slowTimer = setTimeout(() => {
          this.slowTimer = undefined;
          this.schedule();
        }, Math.ceil(wait));
      }
      return;
    }
    clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.waitBeforeNextBatch() === 0) {
        const batch = this.queue.splice(0, MAX_BATCH_ROWS);
        const started = performance.now();
        this.startedAt.push(started);
        void this.commit(batch).finally(() => {
          this.startedAt.splice(this.startedAt.indexOf(started), 1);
          this.schedule();
        });
      }
      this.schedule();
    });
  }

  /**
   * How long the queued messages should still wait before a batch of theirs starts (a batch
   * finishing calls schedule() again): not at all when nothing is being committed or a full
   * batch is waiting; Infinity while MAX_BATCHES_IN_FLIGHT batches are; else until the newest
   * batch in flight has taken SLOW_BATCH_MS.
   *
   * Waiting for the batch in flight, rather than committing beside it, makes batches larger
   * and fewer, which saves CPU in the service and in the database (in the `dm` bench on 2
   * cores: 15 rows a batch instead of 6–7, and a fifth less of MariaDB's CPU per message). A
   * message waits at most one commit for it; SLOW_BATCH_MS keeps a batch stuck on a lock from
   * holding up everything behind it.
   */
  private waitBeforeNextBatch(): number {
    if (this.inFlight === 0) return 0;
    if (this.inFlight >= MAX_BATCHES_IN_FLIGHT) return Infinity;
    if (this.queue.length >= MAX_BATCH_ROWS) return 0;
    const newest = this.startedAt[this.startedAt.length - 1];
    const wait = newest + SLOW_BATCH_MS - performance.now();
    // Under a millisecond counts as none: Node's timers run off a clock cut to milliseconds,
    // so the timer set for it may fire that much early.
    return wait < 1 ? 0 : wait;
  }

  private async commit(batch: Job[]): Promise<void> {
    try {
      const stored = await this.writeBatch(batch.map((j) => j.message));
      batch.forEach((job, i) => job.resolve(stored[i]));
    } catch (err) {
      // Retried one by one only when the server refused a statement (e.g. a duplicate
      // client_msg_id). When the connection failed instead, the batch may have been committed
      // all the same: writing it again could store every message twice.
      if (batch.length === 1 || !isStatementError(err)) {
        batch.forEach((job) => job.reject(err));
        return;
      }
      // One at a time, in arrival order, so ids within a conversation keep the send order.
      for (const job of batch) {
        await this.writeBatch([job.message]).then(
          ([stored]) => job.resolve(stored),
          (e: unknown) => job.reject(e),
        );
      }
    }
  }

  /** Writes one batch in one transaction (retried if the server picks it as a deadlock victim). */
  private writeBatch(batch: NewMessage[]): Promise<Message[]> {
    const pool = this.pool;
    if (!pool) return this.tx.run((m) => this.writeWithManager(m, batch));
    return retryingLockConflicts(() => this.writeOnPool(pool, batch));
  }

  /**
   * Usually one round trip: the ids are handed out first, from the clock, and one statement
   * group begins, creates or counts the conversations and moves their newest ids (one upsert,
   * which takes their row locks), inserts the messages (one INSERT) and commits. The upsert
   * refuses the batch if a conversation already holds an id at or above the batch's first one
   * for it (another batch, or another instance with a clock ahead, got there first), or if its
   * locks took longer than MAX_LOCK_WAIT_US to come. Then the batch is written the careful way,
   * in two more round trips: (1) roll back, begin, count, read the newest ids under the locks;
   * (2) insert with ids above them, move the newest ids, commit.
   */
  private async writeOnPool(pool: Pool, batch: NewMessage[]): Promise<Message[]> {
    const conn: PoolConnection = await pool.getConnection();
    const plan = new BatchPlan(batch, true);
    try {
      const optimistic = plan.assignIds([]);
      const upsert = plan.upsertConversations('guarded');
      const insert = plan.insertMessages(optimistic);
      try {
        await query(
          conn,
          `START TRANSACTION; SET @locks_from = SYSDATE(6); ${upsert.sql}; ${insert.sql}; COMMIT`,
          [...upsert.params, ...insert.params],
        );
        return optimistic;
      } catch (err) {
        if (!isGuardRefusal(err)) throw err;
      }
      const count = plan.upsertConversations('count');
      const select = plan.selectNewest();
      const first = await query(conn, `ROLLBACK; START TRANSACTION; ${count.sql}; ${select.sql}`, [
        ...count.params,
        ...select.params,
      ]);
      const messages = plan.assignIds(first[3] as NewestRow[]);
      const newest = plan.upsertConversations('newest');
      const rest = plan.insertMessages(messages);
      await query(conn, `${rest.sql}; ${newest.sql}; COMMIT`, [...rest.params, ...newest.params]);
      return messages;
    } catch (err) {
      // A statement failed with the transaction open (or the connection is gone).
      await conn.query('ROLLBACK').catch(() => conn.destroy());
      throw err;
    } finally {
      conn.release();
    }
  }

  /** The same statements one by one, in a transaction of the TransactionRunner (SQLite). */
  private async writeWithManager(m: EntityManager, batch: NewMessage[]): Promise<Message[]> {
    const plan = new BatchPlan(batch, m.connection.options.type !== 'better-sqlite3');
    const run = ({ sql, params }: Statement) => m.query<unknown>(sql, params);
    await run(plan.upsertConversations('count'));
    const messages = plan.assignIds((await run(plan.selectNewest())) as NewestRow[]);
    await run(plan.insertMessages(messages));
    await run(plan.upsertConversations('newest'));
    return messages;
  }
}

/**
 * The writer's pool: at most one connection per batch in flight, several statements per query.
 * mysql2 escapes values with backslashes, so no session may run with NO_BACKSLASH_ESCAPES
 * (a quote in a message would end its string literal, and the rest would run as statements).
 */
function createWriterPool(url: string): Pool {
  const pool = createPool({
    ...mysqlPoolOptions(url),
    multipleStatements: true,
    connectionLimit: MAX_BATCHES_IN_FLIGHT,
  });
  const logger = new Logger(MessageWriter.name);
  pool.pool.on('connection', (conn) => {
    // Queued ahead of any statement of the writer's on this connection; a connection where
    // it fails is not used.
    // Strict, whatever the server's default: the guarded upsert refuses a batch by setting a
    // NOT NULL column to NULL, which only strict mode makes an error.
    conn.query(
      "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', ''), ''), 'STRICT_ALL_TABLES')",
      (err: Error | null) => {
        if (err) conn.destroy();
      },
    );
    // A connection that dies between batches reports it here; the pool replaces it.
    conn.on('error', (err: Error) => logger.warn(`writer connection lost: ${err.message}`));
  });
  return pool;
}

/** The guarded upsert's refusal (a newer id, or a late lock): `last_message_id` set to NULL. */
function isGuardRefusal(err: unknown): boolean {
  const driverError = (err as QueryFailedError).driverError as
    { code?: unknown; sqlMessage?: unknown } | undefined;
  return (
    err instanceof QueryFailedError &&
    driverError?.code === 'ER_BAD_NULL_ERROR' &&
    String(driverError.sqlMessage).includes('last_message_id')
  );
}

/** An error the server answered a statement with, the connection still sound. */
function isStatementError(err: unknown): boolean {
  const driverError = (err as QueryFailedError).driverError as
    { code?: unknown; fatal?: unknown } | undefined;
  const code = driverError?.code;
  return (
    err instanceof QueryFailedError &&
    driverError?.fatal !== true &&
    typeof code === 'string' &&
    /^(ER_|SQLITE_)/.test(code)
  );
}

interface Statement {
  sql: string;
  params: unknown[];
}

interface NewestRow {
  conversation_key: string;
  last_message_id: string;
}

/**
 * A multi-statement query on the writer's pool: one result per statement. A failure is a
 * QueryFailedError, as from TypeORM.
 */
async function query(conn: PoolConnection, sql: string, params: unknown[]): Promise<unknown[]> {
  let results: unknown;
  try {
    [results] = await conn.query(sql, params);
  } catch (err) {
    throw new QueryFailedError(sql, params, err as Error);
  }
  return results as unknown[];
}

/** The statements of one batch, built once: conversation rows in key order, ids on demand. */
class BatchPlan {
  private readonly createdAt = now();
  private readonly rows: ConversationRow[];
  private readonly keys: string[];

  constructor(
    private readonly batch: NewMessage[],
    private readonly mysql: boolean,
  ) {
    const conversations = new Map<string, { first: NewMessage; count: number }>();
    for (const msg of batch) {
      const c = conversations.get(msg.conversationKey);
      if (c) c.count += 1;
      else conversations.set(msg.conversationKey, { first: msg, count: 1 });
    }
    this.keys = [...conversations.keys()].sort();
    this.rows = this.keys.map((key) => {
      const { first, count } = conversations.get(key)!;
      const [userA, userB] =
        first.receiverId !== null
          ? privateKey(first.senderId, first.receiverId).slice(2).split(':')
          : [null, null];
      return {
        key,
        groupId: first.groupId,
        userA,
        userB,
        count,
        firstMessageId: '',
        lastMessageId: '',
      };
    });
  }

  /** A datetime parameter: MySQL drivers take the Date, SQLite keeps UTC text. */
  private get at(): Date | string {
    return toSqlTime(this.createdAt, this.mysql);
  }

  selectNewest(): Statement {
    return {
      sql: `SELECT conversation_key, last_message_id FROM conversations WHERE conversation_key IN (${this.keys.map(() => '?').join(', ')})`,
      params: this.keys,
    };
  }

  /**
   * Ids greater than each conversation's newest (none known: from the clock alone), in
   * arrival order; notes each conversation's first and last id of the batch.
   */
  assignIds(newestRows: NewestRow[]): Message[] {
    const newest = new Map(newestRows.map((c) => [c.conversation_key, c.last_message_id]));
    const first = new Map<string, string>();
    const messages = this.batch.map((msg) => {
      const id = nextMessageId(newest.get(msg.conversationKey) ?? '');
      newest.set(msg.conversationKey, id);
      if (!first.has(msg.conversationKey)) first.set(msg.conversationKey, id);
      return { ...msg, id, createdAt: this.createdAt };
    });
    for (const row of this.rows) {
      row.firstMessageId = first.get(row.key)!;
      row.lastMessageId = newest.get(row.key)!;
    }
    return messages;
  }

  insertMessages(messages: Message[]): Statement {
    return {
      sql: `INSERT INTO messages (id, conversation_key, type, content, sender_id, receiver_id, group_id, client_msg_id, created_at) VALUES ${messages.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      params: messages.flatMap((r) => [
        r.id,
        r.conversationKey,
        r.type,
        r.content,
        r.senderId,
        r.receiverId,
        r.groupId,
        r.clientMsgId,
        this.at,
      ]),
    };
  }

  /**
   * One upsert over the batch's conversation rows, in key order. `count`: creates each row
   * with `count` messages or adds `count` (and takes the row locks). `newest`: sets each
   * row's `last_message_id` (the rows exist by then). `guarded` (MySQL/MariaDB): both at once,
   * and refuses (ER_BAD_NULL_ERROR, `last_message_id` set to NULL) if an existing row's newest
   * id is not below the batch's first one in it, or if its lock came more than
   * MAX_LOCK_WAIT_US after `@locks_from` (SYSDATE is the time it is evaluated, after the lock;
   * a server started with --sysdate-is-now gives the statement's start instead, and only
   * the id check is left). An upsert again rather than
   * `UPDATE … WHERE conversation_key IN (…)`: on a small table MariaDB answers that UPDATE
   * with a scan that locks every row it reads, and two batches then deadlock over rows
   * neither writes. The upsert touches exactly its own rows.
   */
  upsertConversations(change: 'count' | 'newest' | 'guarded'): Statement {
    const mysql = this.mysql;
    const insert = `INSERT INTO conversations (conversation_key, type, group_id, user_a, user_b, last_message_id, message_count, updated_at, active_second) VALUES ${this.rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    const count = mysql
      ? 'message_count = message_count + VALUES(message_count), updated_at = VALUES(updated_at), active_second = VALUES(active_second)'
      : 'message_count = message_count + excluded.message_count, updated_at = excluded.updated_at, active_second = excluded.active_second';
    const newest = mysql
      ? 'last_message_id = VALUES(last_message_id)'
      : 'last_message_id = excluded.last_message_id';
    const firstIds = `CASE conversation_key ${this.rows.map(() => 'WHEN ? THEN ?').join(' ')} END`;
    const set = {
      count,
      newest,
      guarded: `${count}, last_message_id = IF(last_message_id < ${firstIds} AND SYSDATE(6) < @locks_from + INTERVAL ${MAX_LOCK_WAIT_US} MICROSECOND, VALUES(last_message_id), NULL)`,
    }[change];
    const values = this.rows.flatMap((r) => [
      r.key,
      r.groupId ? 'group' : 'private',
      r.groupId,
      r.userA,
      r.userB,
      r.lastMessageId,
      r.count,
      this.at,
      activeSecond(this.createdAt),
    ]);
    return {
      sql: mysql
        ? `${insert} ON DUPLICATE KEY UPDATE ${set}`
        : `${insert} ON CONFLICT (conversation_key) DO UPDATE SET ${set}`,
      params:
        change === 'guarded'
          ? [...values, ...this.rows.flatMap((r) => [r.key, r.firstMessageId])]
          : values,
    };
  }
}
