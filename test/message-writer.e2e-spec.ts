import { randomUUID } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import { Conversation } from '../src/chat/conversation.entity';
import { privateKey } from '../src/chat/conversation-key';
import { idFloor, idTime } from '../src/chat/message-id';
import { Message } from '../src/chat/message.entity';
import { MessageWriter, NewMessage } from '../src/chat/message-writer';
import { isUniqueViolation } from '../src/database/errors';
import { createTestApp, onMysql, TestApp } from './support/test-app';

/**
 * Group commit, against the real database (SQLite, or MariaDB with E2E_DB=mysql): concurrent
 * sends share transactions and INSERTs, and each still gets its own outcome.
 */
describe('MessageWriter group commit (e2e)', () => {
  let t: TestApp;
  let writer: MessageWriter;
  let batches: number[];

  beforeAll(async () => {
    t = await createTestApp();
    writer = t.app.get(MessageWriter);
  });
  beforeEach(() => {
    batches = [];
    type WriteBatch = (b: NewMessage[]) => Promise<Message[]>;
    const spied = writer as unknown as { writeBatch: WriteBatch };
    const writeBatch = spied.writeBatch;
    jest.spyOn(spied, 'writeBatch').mockImplementation(function (
      this: MessageWriter,
      batch: NewMessage[],
    ) {
      batches.push(batch.length);
      return writeBatch.call(this, batch);
    });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  const dm = (from: string, to: string, content: string, clientMsgId: string | null = null) =>
    ({
      conversationKey: privateKey(from, to),
      receiverId: to,
      groupId: null,
      type: 'text',
      content,
      senderId: from,
      clientMsgId,
    }) satisfies NewMessage;

  it('coalesces concurrent sends into shared batches, keeping per-conversation order and counters', async () => {
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const pairs = [
      [a, b],
      [c, d],
      [b, c],
    ];
    const sends = Array.from({ length: 30 }, (_, i) => {
      const [from, to] = pairs[i % 3];
      return dm(from, to, `m${i}`);
    });
    const stored = await Promise.all(sends.map((s) => writer.write(s)));

    expect(batches.reduce((x, y) => x + y, 0)).toBe(30);
    expect(batches.length).toBeLessThan(30);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    for (const [i, msg] of stored.entries()) {
      expect(msg).toMatchObject({ content: `m${i}`, conversationKey: sends[i].conversationKey });
    }
    for (const [from, to] of pairs) {
      const key = privateKey(from, to);
      const mine = stored.filter((m) => m.conversationKey === key);
      // Ids grow in the order the sends were made, and every one of them was committed.
      expect(mine.map((m) => m.id)).toEqual([...mine.map((m) => m.id)].sort());
      const rows = await t.dataSource
        .getRepository(Message)
        .find({ where: { conversationKey: key }, order: { id: 'ASC' } });
      expect(rows.map((r) => r.content)).toEqual(mine.map((m) => m.content));
      const conversation = await t.dataSource.getRepository(Conversation).findOneByOrFail({ key });
      expect(conversation.messageCount).toBe(10);
      expect(conversation.lastMessageId).toBe(mine[mine.length - 1].id);
    }
  });

  it('gives each sender of a failed batch its own outcome: only the bad row fails', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const sends = [
      dm(a, b, 'one', 'dup'),
      dm(a, b, 'two'),
      dm(b, a, 'three'),
      dm(a, b, 'four', 'dup'), // same sender + client_msg_id as 'one'
      dm(b, a, 'five'),
    ];
    const outcomes = await Promise.allSettled(sends.map((s) => writer.write(s)));

    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(isUniqueViolation(failed[0].reason)).toBe(true);
    const contents = (
      await t.dataSource
        .getRepository(Message)
        .find({ where: { conversationKey: privateKey(a, b) }, order: { id: 'ASC' } })
    ).map((m) => m.content);
    expect(contents).toHaveLength(4);
    expect(contents.filter((c) => c === 'one' || c === 'four')).toHaveLength(1);
    expect(contents).toEqual(expect.arrayContaining(['two', 'three', 'five']));
    const conversation = await t.dataSource
      .getRepository(Conversation)
      .findOneByOrFail({ key: privateKey(a, b) });
    expect(conversation.messageCount).toBe(4);
  });

  it('fails the whole batch, without writing it again, when the connection failed', async () => {
    // The batch may have been committed before the connection broke: no message-by-message retry.
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    const spy = jest.spyOn(writer as unknown as { writeBatch: () => unknown }, 'writeBatch');
    spy.mockImplementationOnce(() => Promise.reject(new QueryFailedError('INSERT', [], lost)));
    const [a, b] = [randomUUID(), randomUUID()];
    const outcomes = await Promise.allSettled([
      writer.write(dm(a, b, 'one')),
      writer.write(dm(b, a, 'two')),
      writer.write(dm(a, b, 'three')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(
      await t.dataSource.getRepository(Message).countBy({ conversationKey: privateKey(a, b) }),
    ).toBe(0);
  });

  /** The first 20 characters of every statement group the writer sends on its own pool. */
  const recordStatements = () => {
    const pool = (writer as unknown as { pool: import('mysql2/promise').Pool }).pool;
    const sent: string[] = [];
    const getConnection = pool.getConnection.bind(pool);
    jest.spyOn(pool, 'getConnection').mockImplementation(async () => {
      const conn = await getConnection();
      const original = conn.query.bind(conn) as (sql: string, p: unknown) => Promise<unknown>;
      jest.spyOn(conn, 'query').mockImplementation(((sql: string, p: unknown) => {
        sent.push(sql.slice(0, 20));
        return original(sql, p);
      }) as never);
      return conn;
    });
    return sent;
  };

  (onMysql ? it : it.skip)('writes a batch in one round trip to MariaDB/MySQL', async () => {
    const sent = recordStatements();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await writer.write(dm(a, b, 'before')); // one conversation exists already, two are new
    sent.length = 0;
    const stored = await Promise.all([
      writer.write(dm(a, b, 'one')),
      writer.write(dm(b, c, 'two')),
      writer.write(dm(c, a, 'three')),
    ]);
    expect(stored.map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(batches).toEqual([1, 3]);
    expect(sent).toEqual(['START TRANSACTION; S']);
    const conversation = await t.dataSource
      .getRepository(Conversation)
      .findOneByOrFail({ key: privateKey(a, b) });
    expect(conversation).toMatchObject({ messageCount: 2, lastMessageId: stored[0].id });
  });

  (onMysql ? it : it.skip)(
    'hands out ids again, above the newest, when a conversation already holds a newer id',
    async () => {
      // As if another instance, its clock a minute ahead, had written to the conversation.
      const [a, b] = [randomUUID(), randomUUID()];
      await writer.write(dm(a, b, 'first'));
      const ahead = idFloor(new Date(Date.now() + 60_000));
      const conversations = t.dataSource.getRepository(Conversation);
      await conversations.update({ key: privateKey(a, b) }, { lastMessageId: ahead });
      const sent = recordStatements();

      const [second, third] = await Promise.all([
        writer.write(dm(a, b, 'second')),
        writer.write(dm(b, a, 'third')),
      ]);

      expect(second.id > ahead).toBe(true);
      expect(third.id > second.id).toBe(true);
      expect(sent).toEqual([
        'START TRANSACTION; S', // refused: nothing of it stays
        'ROLLBACK; START TRAN',
        'INSERT INTO messages',
      ]);
      const rows = await t.dataSource
        .getRepository(Message)
        .find({ where: { conversationKey: privateKey(a, b) }, order: { id: 'ASC' } });
      expect(rows.map((r) => [r.content, r.id])).toEqual([
        ['first', expect.any(String)],
        ['second', second.id],
        ['third', third.id],
      ]);
      expect(await conversations.findOneByOrFail({ key: privateKey(a, b) })).toMatchObject({
        messageCount: 3,
        lastMessageId: third.id,
      });
    },
  );

  (onMysql ? it : it.skip)(
    'hands out ids again, after the lock, when the lock was slow to come',
    async () => {
      // A sync reader trusts that a message commits soon after its id's time.
      const [a, b] = [randomUUID(), randomUUID()];
      await writer.write(dm(a, b, 'first'));
      const other = t.dataSource.createQueryRunner();
      await other.connect();
      await other.startTransaction();
      let releasedAt = 0;
      try {
        await other.query(
          'SELECT conversation_key FROM conversations WHERE conversation_key = ? FOR UPDATE',
          [privateKey(a, b)],
        );
        const sent = recordStatements();
        const written = writer.write(dm(a, b, 'second'));
        await new Promise((r) => setTimeout(r, 500));
        releasedAt = Date.now();
        await other.rollbackTransaction();
        const stored = await written;
        expect(idTime(stored.id)).toBeGreaterThanOrEqual(releasedAt);
        expect(sent).toEqual([
          'START TRANSACTION; S',
          'ROLLBACK; START TRAN',
          'INSERT INTO messages',
        ]);
      } finally {
        if (!releasedAt) await other.rollbackTransaction();
        await other.release();
      }
    },
  );

  // Row locks exist on MariaDB/MySQL only (SQLite runs one transaction at a time).
  (onMysql ? it : it.skip)(
    'locks only the conversation rows it writes to (concurrent batches cannot deadlock)',
    async () => {
      const users = Array.from({ length: 14 }, () => randomUUID());
      // A conversation row another transaction holds locked the whole time.
      const held = dm(users[0], users[1], 'first');
      await writer.write(held);
      const other = t.dataSource.createQueryRunner();
      await other.connect();
      await other.startTransaction();
      try {
        await other.query(
          'SELECT conversation_key FROM conversations WHERE conversation_key = ? FOR UPDATE',
          [held.conversationKey],
        );
        // One batch over a dozen other conversations, none of them the held one.
        const sends = users.slice(2).map((u) => dm(u, users[0], 'x'));
        const written = Promise.all(sends.map((s) => writer.write(s)));
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          written.then(() => 'written'),
          new Promise((r) => (timer = setTimeout(() => r('blocked'), 3000))),
        ]);
        clearTimeout(timer);
        expect(outcome).toBe('written');
      } finally {
        await other.rollbackTransaction();
        await other.release();
      }
    },
  );
});
