import { v7 as uuidv7 } from 'uuid';
import { ReadMark } from '../src/chat/read-mark.entity';
import { Message } from '../src/chat/message.entity';
import { Conversation } from '../src/chat/conversation.entity';
import { privateKey } from '../src/chat/conversation-key';
import { nextMessageId } from '../src/chat/message-id';
import { ConversationActiveSecond1764000004000 } from '../src/database/migrations/1764000004000-ConversationActiveSecond';
import { User } from '../src/users/user.entity';
import { createTestApp, onMysql, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';
import { ClientSocket, connect, emitAck, Recorder, settle } from './support/sockets';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MISSING = '7d8b1a52-3f0c-4a53-9d6e-5b0f6f8f1a2b';

describe('Chat over HTTP and sockets (e2e)', () => {
  let t: TestApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(() => t.close());

  const as = (user: TestUser) => ({
    get: (path: string, query: object = {}) =>
      t.http.get(`/api/v1${path}`).query(query).set(bearer(user.token)),
    post: (path: string, body: object = {}) =>
      t.http.post(`/api/v1${path}`).set(bearer(user.token)).send(body),
  });
  const open = async (user: TestUser) => {
    const s = await connect(t.url, user.token);
    sockets.push(s);
    return s;
  };
  const send = async (from: TestUser, body: object) => {
    const res = await as(from).post('/chat/message', body).expect(200);
    return res.body.data;
  };
  async function groupWith(owner: TestUser, members: TestUser[]): Promise<string> {
    const g = await as(owner).post('/group', { name: 'chat', description: '' }).expect(200);
    if (members.length) {
      await as(owner)
        .post(`/group/${g.body.data.group_id}/members`, { user_ids: members.map((m) => m.user_id) })
        .expect(200);
    }
    return g.body.data.group_id;
  }

  describe('sending', () => {
    it('stores a private message, answers the envelope, and delivers message:new to the receiver and the sender’s sockets only', async () => {
      const [a, b, outsider] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      const [sa, sb1, sb2, so] = [
        await open(a),
        await open(b),
        await open(b),
        await open(outsider),
      ];
      const rec = [sa, sb1, sb2, so].map((s) => new Recorder(s, ['message:new']));
      const message = await send(a, { type: 'text', content: '你好 👋', receiver_id: b.user_id });
      expect(message).toEqual({
        message_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/),
        type: 'text',
        content: '你好 👋',
        sender_id: a.user_id,
        receiver_id: b.user_id,
        group_id: null,
        created_at: expect.stringMatching(ISO),
      });
      for (const r of rec.slice(0, 3)) await r.waitFor((x) => x.of('message:new').length === 1);
      expect(rec[1].of('message:new')).toEqual([message]);
      await settle();
      expect(rec[3].of('message:new')).toEqual([]);
      expect(rec.slice(0, 3).map((r) => r.of('message:new').length)).toEqual([1, 1, 1]);
      const row = await t.dataSource
        .getRepository(Message)
        .findOneByOrFail({ id: message.message_id });
      expect(row.content).toBe('你好 👋');
    });

    it('sends over the socket with an ack, to the other devices of the sender but not the sending socket', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const [sa1, sa2, sb] = [await open(a), await open(a), await open(b)];
      const rec = [sa1, sa2, sb].map((s) => new Recorder(s, ['message:new']));
      const ack = await emitAck(sa1, 'message:send', {
        type: 'text',
        content: 'via socket',
        receiver_id: b.user_id,
      });
      expect(ack).toEqual({
        code: 200,
        message: 'success',
        data: expect.objectContaining({
          content: 'via socket',
          sender_id: a.user_id,
          receiver_id: b.user_id,
          group_id: null,
        }),
      });
      await rec[1].waitFor((r) => r.of('message:new').length === 1);
      await rec[2].waitFor((r) => r.of('message:new').length === 1);
      await settle();
      expect(rec[0].of('message:new')).toEqual([]);
      expect(rec[2].of('message:new')).toEqual([ack.data]);
    });

    it('delivers a group message to every member’s sockets and to nobody else', async () => {
      const [owner, m1, m2, outsider] = await Promise.all(
        [0, 1, 2, 3].map(() => registerUser(t.http)),
      );
      const g = await groupWith(owner, [m1, m2]);
      const socks = [await open(owner), await open(m1), await open(m2), await open(outsider)];
      const rec = socks.map((s) => new Recorder(s, ['message:new']));
      const message = await send(m1, {
        type: 'image',
        content: 'https://cdn.example.com/p.png',
        group_id: g,
      });
      expect(message).toMatchObject({
        type: 'image',
        group_id: g,
        receiver_id: null,
        sender_id: m1.user_id,
      });
      for (const r of rec.slice(0, 3)) await r.waitFor((x) => x.of('message:new').length === 1);
      await settle();
      expect(rec[3].of('message:new')).toEqual([]);
    });

    it('refuses group messages from non-members (403) and to missing groups (404)', async () => {
      const [owner, outsider] = [await registerUser(t.http), await registerUser(t.http)];
      const g = await groupWith(owner, []);
      const so = await open(outsider);
      expect(
        (
          await as(outsider)
            .post('/chat/message', { type: 'text', content: 'x', group_id: g })
            .expect(403)
        ).body,
      ).toEqual({
        code: 403,
        message: '权限不足',
        error: 'not a member of this group',
      });
      expect(
        await emitAck(so, 'message:send', { type: 'text', content: 'x', group_id: g }),
      ).toMatchObject({ code: 403 });
      await as(owner)
        .post('/chat/message', { type: 'text', content: 'x', group_id: MISSING })
        .expect(404);
      expect(await t.dataSource.getRepository(Message).countBy({ groupId: g })).toBe(0);
    });

    it('refuses a removed member’s messages and stops delivering to them', async () => {
      const [owner, m] = [await registerUser(t.http), await registerUser(t.http)];
      const g = await groupWith(owner, [m]);
      const sm = await open(m);
      const rec = new Recorder(sm, ['message:new', 'group:member_removed']);
      // A member who has just written (and so is known to be a member) is refused right after.
      await send(m, { type: 'text', content: 'before removal', group_id: g });
      // The response and the socket's copy travel apart: wait for the copy.
      await rec.waitFor((r) => r.of('message:new').length === 1);
      await t.http
        .delete(`/api/v1/group/${g}/members/${m.user_id}`)
        .set(bearer(owner.token))
        .expect(200);
      await rec.waitFor((r) => r.of('group:member_removed').length === 1);
      expect(
        await emitAck(sm, 'message:send', { type: 'text', content: 'still here?', group_id: g }),
      ).toMatchObject({ code: 403 });
      await send(owner, { type: 'text', content: 'after removal', group_id: g });
      await settle();
      expect(rec.of('message:new').map((x) => x.content)).toEqual(['before removal']);
      await as(m).get('/chat/messages', { group_id: g }).expect(403);
      await as(m).post('/chat/message', { type: 'text', content: 'x', group_id: g }).expect(403);
    });

    it.each([
      ['no target', { type: 'text', content: 'x' }, /exactly one of receiver_id or group_id/],
      [
        'both targets',
        { type: 'text', content: 'x', receiver_id: MISSING, group_id: MISSING },
        /exactly one/,
      ],
      ['an unknown type', { type: 'video', content: 'x', receiver_id: MISSING }, /type/],
      ['empty text', { type: 'text', content: '', receiver_id: MISSING }, /content/],
      ['blank text', { type: 'text', content: '   ', receiver_id: MISSING }, /not only blanks/],
      [
        '5001 characters',
        { type: 'text', content: 'x'.repeat(5001), receiver_id: MISSING },
        /content must be 1 to 5000 characters/,
      ],
      [
        '5001 emoji (two UTF-16 units each)',
        { type: 'text', content: '😀'.repeat(5001), receiver_id: MISSING },
        /content must be 1 to 5000 characters/,
      ],
      [
        'an image that is not a URL',
        { type: 'image', content: 'file:///etc/passwd', receiver_id: MISSING },
        /content/,
      ],
      [
        'a bad receiver id',
        { type: 'text', content: 'x', receiver_id: "1' OR 1=1" },
        /receiver_id/,
      ],
      [
        'a long client_msg_id',
        { type: 'text', content: 'x', receiver_id: MISSING, client_msg_id: 'c'.repeat(65) },
        /client_msg_id/,
      ],
      [
        'an unknown field',
        { type: 'text', content: 'x', receiver_id: MISSING, priority: 1 },
        /priority/,
      ],
    ])('refuses %s with 400 over HTTP and socket, storing nothing', async (_name, body, reason) => {
      const a = await registerUser(t.http);
      const sa = await open(a);
      const before = await t.dataSource.getRepository(Message).count();
      const res = await as(a).post('/chat/message', body).expect(400);
      expect(res.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: expect.stringMatching(reason),
      });
      expect(await emitAck(sa, 'message:send', body)).toEqual(res.body);
      expect(sa.connected).toBe(true);
      expect(await t.dataSource.getRepository(Message).count()).toBe(before);
    });

    it('accepts exactly 5000 characters, refuses an unknown receiver (404) and yourself (400)', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      await as(a)
        .post('/chat/message', { type: 'text', content: '字'.repeat(5000), receiver_id: b.user_id })
        .expect(200);
      // Characters, not UTF-16 units: 5000 emoji are 5000 characters, stored and read back whole.
      const emoji = '😀'.repeat(4999) + '👍';
      const sent = await as(a)
        .post('/chat/message', { type: 'text', content: emoji, receiver_id: b.user_id })
        .expect(200);
      expect(sent.body.data.content).toBe(emoji);
      const page = await as(b).get(`/chat/messages?receiver_id=${a.user_id}&limit=1`).expect(200);
      expect(page.body.data.messages[0].content).toBe(emoji);
      expect(
        (
          await as(a)
            .post('/chat/message', { type: 'text', content: 'x', receiver_id: MISSING })
            .expect(404)
        ).body.error,
      ).toBe('user not found');
      await as(a)
        .post('/chat/message', { type: 'text', content: 'x', receiver_id: a.user_id })
        .expect(400);
    });

    it('makes retries with the same client_msg_id idempotent, also when concurrent', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const sb = await open(b);
      const rec = new Recorder(sb, ['message:new']);
      const body = {
        type: 'text',
        content: 'once',
        receiver_id: b.user_id,
        client_msg_id: 'retry-1',
      };
      const results = await Promise.all([1, 2, 3, 4].map(() => as(a).post('/chat/message', body)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const ids = new Set(results.map((r) => r.body.data.message_id));
      expect(ids.size).toBe(1);
      const again = await emitAck(await open(a), 'message:send', body);
      expect(again.data.message_id).toBe([...ids][0]);
      expect(
        await t.dataSource
          .getRepository(Message)
          .countBy({ senderId: a.user_id, clientMsgId: 'retry-1' }),
      ).toBe(1);
      await settle(300);
      expect(rec.of('message:new')).toHaveLength(1);
      // The same client_msg_id from another sender is another message.
      const other = await registerUser(t.http);
      const res = await as(other)
        .post('/chat/message', { ...body, receiver_id: a.user_id })
        .expect(200);
      expect(ids.has(res.body.data.message_id)).toBe(false);
    });

    it('hands out ids in send order within a conversation', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const sent: string[] = [];
      for (let i = 0; i < 20; i += 1)
        sent.push(
          (
            await send(i % 2 ? a : b, {
              type: 'text',
              content: `${i}`,
              receiver_id: i % 2 ? b.user_id : a.user_id,
            })
          ).message_id,
        );
      expect([...sent].sort()).toEqual(sent);
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          send(a, { type: 'text', content: `c${i}`, receiver_id: b.user_id }),
        ),
      );
      const history = await as(b)
        .get('/chat/messages', { receiver_id: a.user_id, limit: 100 })
        .expect(200);
      const ids = history.body.data.messages.map((m: { message_id: string }) => m.message_id);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(ids).toHaveLength(30);
      expect(new Set(concurrent.map((m) => m.message_id)).size).toBe(10);
    });
  });

  describe('history', () => {
    let a: TestUser;
    let b: TestUser;
    let ids: string[];

    beforeAll(async () => {
      [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      ids = [];
      for (let i = 0; i < 25; i += 1) {
        const from = i % 3 === 0 ? b : a;
        const to = from === a ? b : a;
        ids.push(
          (await send(from, { type: 'text', content: `m${i}`, receiver_id: to.user_id }))
            .message_id,
        );
      }
    });

    it('returns the seed shape: newest first, total, read_by, default limit 20', async () => {
      const res = await as(a).get('/chat/messages', { receiver_id: b.user_id }).expect(200);
      expect(res.body.data.total).toBe(25);
      expect(res.body.data.has_more).toBe(true);
      expect(res.body.data.messages).toHaveLength(20);
      expect(res.body.data.messages[0]).toEqual({
        message_id: ids[24],
        type: 'text',
        content: 'm24',
        sender_id: b.user_id, // every third message is from b
        receiver_id: a.user_id,
        group_id: null,
        created_at: expect.stringMatching(ISO),
        read_by: [],
      });
      expect(res.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
        ids.slice(5).reverse(),
      );
      // Both directions, from either side.
      const fromB = await as(b)
        .get('/chat/messages', { receiver_id: a.user_id, limit: 100 })
        .expect(200);
      expect(fromB.body.data.messages).toHaveLength(25);
    });

    it('pages with limit/offset and with before/after cursors', async () => {
      const page = await as(a)
        .get('/chat/messages', { receiver_id: b.user_id, limit: 10, offset: 20 })
        .expect(200);
      expect(page.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
        ids.slice(0, 5).reverse(),
      );
      expect(page.body.data.has_more).toBe(false);
      const before = await as(a)
        .get('/chat/messages', { receiver_id: b.user_id, limit: 5, before: ids[10] })
        .expect(200);
      expect(before.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
        ids.slice(5, 10).reverse(),
      );
      expect(before.body.data.has_more).toBe(true);
      const after = await as(a)
        .get('/chat/messages', { receiver_id: b.user_id, limit: 5, after: ids[10] })
        .expect(200);
      expect(after.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
        ids.slice(11, 16),
      );
      expect(after.body.data.has_more).toBe(true);
      const tail = await as(a)
        .get('/chat/messages', { receiver_id: b.user_id, after: ids[22] })
        .expect(200);
      expect(tail.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
        ids.slice(23),
      );
      expect(tail.body.data.has_more).toBe(false);
      expect(tail.body.data.total).toBe(25);
      // Pages past either end are empty and still say how many messages there are.
      for (const query of [{ after: ids[24] }, { offset: 100 }]) {
        const past = await as(a)
          .get('/chat/messages', { receiver_id: b.user_id, ...query })
          .expect(200);
        expect(past.body.data).toEqual({ messages: [], total: 25, has_more: false });
      }
    });

    it.each([
      ['offset with a cursor', { offset: 1, before: MISSING }],
      ['before and after', { before: MISSING, after: MISSING }],
      ['limit 0', { limit: 0 }],
      ['limit 101', { limit: 101 }],
      ['a negative offset', { offset: -1 }],
      ['an absurd offset', { offset: '1e21' }],
      ['a bad cursor', { after: 'yesterday' }],
    ])('refuses %s with 400', async (_name, query) => {
      await as(a)
        .get('/chat/messages', { receiver_id: b.user_id, ...query })
        .expect(400);
    });

    it('answers an empty history for a conversation without messages, and 404 for an unknown peer', async () => {
      const c = await registerUser(t.http);
      const res = await as(a).get('/chat/messages', { receiver_id: c.user_id }).expect(200);
      expect(res.body.data).toEqual({ messages: [], total: 0, has_more: false });
      await as(a).get('/chat/messages', { receiver_id: MISSING }).expect(404);
      await as(a).get('/chat/messages', {}).expect(400);
    });

    it('lets nobody else read a private conversation', async () => {
      const eve = await registerUser(t.http);
      // Eve can only ever see her own conversation with a or b: empty.
      const res = await as(eve).get('/chat/messages', { receiver_id: b.user_id }).expect(200);
      expect(res.body.data.messages).toEqual([]);
    });

    it('computes read_by for a page in a bounded number of queries', async () => {
      const count = async (limit: number) => {
        let queries = 0;
        const logger = t.dataSource.logger;
        const spy = jest.spyOn(logger, 'logQuery').mockImplementation(() => {
          queries += 1;
        });
        try {
          await as(a).get('/chat/messages', { receiver_id: b.user_id, limit }).expect(200);
        } finally {
          spy.mockRestore();
        }
        return queries;
      };
      await as(b).post('/chat/read', { receiver_id: a.user_id, message_id: ids[20] }).expect(200);
      expect(await count(25)).toBe(await count(2));
    });
  });

  describe('read receipts', () => {
    it('moves a read mark forward only, reports read_by exactly, and tells the other side', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const m = [];
      for (let i = 0; i < 4; i += 1)
        m.push(await send(a, { type: 'text', content: `r${i}`, receiver_id: b.user_id }));
      const [sa, sb1, sb2] = [await open(a), await open(b), await open(b)];
      const recA = new Recorder(sa, ['message:read']);
      const recB2 = new Recorder(sb2, ['message:read']);

      const ack = await emitAck(sb1, 'message:read', {
        receiver_id: a.user_id,
        message_id: m[2].message_id,
      });
      expect(ack).toEqual({
        code: 200,
        message: 'success',
        data: {
          user_id: b.user_id,
          receiver_id: a.user_id,
          group_id: null,
          message_id: m[2].message_id,
          read_at: expect.stringMatching(ISO),
        },
      });
      await recA.waitFor((r) => r.of('message:read').length === 1);
      expect(recA.of('message:read')).toEqual([ack.data]);
      await recB2.waitFor((r) => r.of('message:read').length === 1);

      // Backwards and repeated reads change nothing and notify nobody.
      const back = await as(b)
        .post('/chat/read', { receiver_id: a.user_id, message_id: m[0].message_id })
        .expect(200);
      expect(back.body.data).toEqual(ack.data);
      await as(b)
        .post('/chat/read', { receiver_id: a.user_id, message_id: m[2].message_id })
        .expect(200);
      await settle();
      expect(recA.of('message:read')).toHaveLength(1);

      const history = await as(a).get('/chat/messages', { receiver_id: b.user_id }).expect(200);
      const readBy = Object.fromEntries(
        history.body.data.messages.map((x: any) => [x.content, x.read_by]),
      );
      expect(readBy).toEqual({
        r3: [],
        r2: [{ user_id: b.user_id, read_at: ack.data.read_at }],
        r1: [{ user_id: b.user_id, read_at: ack.data.read_at }],
        r0: [{ user_id: b.user_id, read_at: ack.data.read_at }],
      });
      expect(await t.dataSource.getRepository(ReadMark).countBy({ userId: b.user_id })).toBe(1);
    });

    it('keeps one read mark per reader in a group and counts unread exactly', async () => {
      const [owner, m1, m2] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      const g = await groupWith(owner, [m1, m2]);
      const sent = [];
      for (let i = 0; i < 6; i += 1)
        sent.push(await send(i < 3 ? owner : m1, { type: 'text', content: `g${i}`, group_id: g }));
      for (const msg of sent)
        await as(m2).post('/chat/read', { group_id: g, message_id: msg.message_id }).expect(200);
      await as(m1).post('/chat/read', { group_id: g, message_id: sent[1].message_id }).expect(200);
      expect(
        await t.dataSource.getRepository(ReadMark).countBy({ conversationKey: `g:${g}` }),
      ).toBe(2);
      const history = await as(owner).get('/chat/messages', { group_id: g }).expect(200);
      const readers = Object.fromEntries(
        history.body.data.messages.map((x: any) => [
          x.content,
          x.read_by.map((r: any) => r.user_id).sort(),
        ]),
      );
      expect(readers).toEqual({
        g5: [m2.user_id],
        g4: [m2.user_id],
        g3: [m2.user_id],
        g2: [m2.user_id],
        g1: [m1.user_id, m2.user_id].sort(),
        g0: [m1.user_id, m2.user_id].sort(),
      });
      const unread = async (u: TestUser) =>
        (await as(u).get('/chat/conversations').expect(200)).body.data.conversations.find(
          (c: any) => c.group?.group_id === g,
        ).unread_count;
      // m1 read up to g1; g2 is from owner (unread), g3-g5 are m1's own.
      expect(await unread(m1)).toBe(1);
      expect(await unread(m2)).toBe(0);
      expect(await unread(owner)).toBe(3);
    });

    it('refuses a message of another conversation (404) and outsiders (403)', async () => {
      const [a, b, c] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      const ab = await send(a, { type: 'text', content: 'x', receiver_id: b.user_id });
      await as(c)
        .post('/chat/read', { receiver_id: a.user_id, message_id: ab.message_id })
        .expect(404);
      const g = await groupWith(a, []);
      await as(c).post('/chat/read', { group_id: g, message_id: ab.message_id }).expect(403);
      await as(b).post('/chat/read', { receiver_id: a.user_id, message_id: 'nope' }).expect(400);
    });
  });

  describe('edge cases', () => {
    it('accepts ids in upper case', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const first = await send(a, { type: 'text', content: 'one', receiver_id: b.user_id });
      const second = await send(a, {
        type: 'text',
        content: 'two',
        receiver_id: b.user_id.toUpperCase(),
      });
      const res = await as(b)
        .get('/chat/messages', {
          receiver_id: a.user_id.toUpperCase(),
          after: first.message_id.toUpperCase(),
        })
        .expect(200);
      expect(res.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual([
        second.message_id,
      ]);
      await as(b)
        .post('/chat/read', { receiver_id: a.user_id, message_id: second.message_id.toUpperCase() })
        .expect(200);
      await t.http.get(`/api/v1/user/${a.user_id.toUpperCase()}`).set(bearer(b.token)).expect(200);
    });

    it('counts as unread for a new group member only what was sent after they joined', async () => {
      const [owner, late] = [await registerUser(t.http), await registerUser(t.http)];
      const g = await groupWith(owner, []);
      for (let i = 0; i < 3; i += 1)
        await send(owner, { type: 'text', content: `old ${i}`, group_id: g });
      await new Promise((r) => setTimeout(r, 5));
      await as(owner)
        .post(`/group/${g}/members`, { user_ids: [late.user_id] })
        .expect(200);
      await new Promise((r) => setTimeout(r, 5));
      await send(owner, { type: 'text', content: 'new', group_id: g });
      const list = await as(late).get('/chat/conversations').expect(200);
      expect(list.body.data.conversations[0]).toMatchObject({
        group: { group_id: g },
        unread_count: 1,
      });
    });

    it("removes a deleted group's messages and read marks", async () => {
      const [owner, m] = [await registerUser(t.http), await registerUser(t.http)];
      const g = await groupWith(owner, [m]);
      const msg = await send(owner, { type: 'text', content: 'bye', group_id: g });
      await as(m).post('/chat/read', { group_id: g, message_id: msg.message_id }).expect(200);
      await t.http.delete(`/api/v1/group/${g}`).set(bearer(owner.token)).expect(200);
      for (
        let i = 0;
        i < 50 && (await t.dataSource.getRepository(Message).countBy({ groupId: g })) > 0;
        i += 1
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await t.dataSource.getRepository(Message).countBy({ groupId: g })).toBe(0);
      expect(
        await t.dataSource.getRepository(ReadMark).countBy({ conversationKey: `g:${g}` }),
      ).toBe(0);
      await as(m).get('/chat/messages', { group_id: g }).expect(404);
    });
  });

  describe('GET /api/v1/chat/sync', () => {
    /** Every message id sync hands `user`, page by page (at most 20 pages). */
    const syncAll = async (user: TestUser, limit: number): Promise<string[]> => {
      const got: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const res = await as(user)
          .get('/chat/sync', { limit, ...(after ? { after } : {}) })
          .expect(200);
        got.push(...res.body.data.messages.map((m: { message_id: string }) => m.message_id));
        after = res.body.data.watermark;
        if (!res.body.data.has_more) break;
      }
      return got;
    };

    (onMysql ? it.each : it.skip.each)([
      ['a conversation with newer messages', false],
      ['a conversation with nothing newer yet', true],
    ])(
      'never skips a message that commits late in another conversation (%s)',
      async (_name, quietBefore) => {
        const [me, p1, p2] = [
          await registerUser(t.http),
          await registerUser(t.http),
          await registerUser(t.http),
        ];
        const p2Start = { type: 'text', content: 'start', receiver_id: me.user_id };
        if (quietBefore) await send(p2, p2Start);
        const first = await send(p1, { type: 'text', content: 'start', receiver_id: me.user_id });
        if (!quietBefore) await send(p2, p2Start);
        // A send to me from p2 takes its id now but is still committing...
        const mysql = await import('mysql2/promise');
        const conn = await mysql.createConnection(t.databaseUrl);
        const lateId = nextMessageId('');
        const [a, b] = [me.user_id, p2.user_id].sort();
        await conn.beginTransaction();
        await conn.query(
          'INSERT INTO messages (id, conversation_key, type, content, sender_id, receiver_id, created_at) VALUES (?, ?, ?, ?, ?, ?, NOW(3))',
          [lateId, `p:${a}:${b}`, 'text', 'late', p2.user_id, me.user_id],
        );
        // (as the service does in the same transaction)
        await conn.query(
          'UPDATE conversations SET last_message_id = ?, message_count = message_count + 1 WHERE conversation_key = ?',
          [lateId, `p:${a}:${b}`],
        );
        // ...while a newer message of another conversation commits at once.
        const quick = await send(p1, { type: 'text', content: 'quick', receiver_id: me.user_id });
        const sync = as(me)
          .get('/chat/sync', { after: first.message_id })
          .then((r) => r);
        await new Promise((r) => setTimeout(r, 300));
        await conn.commit();
        await conn.end();
        const res = await sync;
        const ids = res.body.data.messages.map((m: { message_id: string }) => m.message_id);
        expect(ids).toContain(lateId);
        expect(ids.indexOf(lateId)).toBeLessThan(ids.indexOf(quick.message_id));
        expect(res.body.data.watermark).toBe(quick.message_id);
      },
    );

    it('returns every newer message of all my conversations, oldest first, page by page', async () => {
      const [me, p1, owner, stranger] = await Promise.all(
        [0, 1, 2, 3].map(() => registerUser(t.http)),
      );
      const g = await groupWith(owner, [me]);
      const start = await as(me).get('/chat/sync').expect(200);
      expect(start.body.data).toEqual({ messages: [], has_more: false, watermark: null });
      const sent: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        const msg =
          i % 2
            ? await send(p1, { type: 'text', content: `p${i}`, receiver_id: me.user_id })
            : await send(owner, { type: 'text', content: `g${i}`, group_id: g });
        sent.push(msg.message_id);
      }
      await send(stranger, { type: 'text', content: 'not mine', receiver_id: p1.user_id });
      expect(await syncAll(me, 3)).toEqual(sent);
      await as(me).get('/chat/sync', { limit: 501 }).expect(400);
      await as(me).get('/chat/sync', { after: 'x' }).expect(400);
    });

    it('merges conversations larger than a page with small ones, in id order', async () => {
      // With limit 3, p1's conversation (9 messages) is read on its own; the small ones
      // (p2: 1, the group: 2) share one scan on MySQL/MariaDB.
      const [me, p1, p2, owner] = await Promise.all([0, 1, 2, 3].map(() => registerUser(t.http)));
      const g = await groupWith(owner, [me]);
      const sent: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const body =
          i === 4
            ? { from: p2, msg: { receiver_id: me.user_id } }
            : i === 1 || i === 9
              ? { from: owner, msg: { group_id: g } }
              : { from: me, msg: { receiver_id: p1.user_id } };
        sent.push(
          (await send(body.from, { type: 'text', content: `m${i}`, ...body.msg })).message_id,
        );
      }
      expect(await syncAll(me, 3)).toEqual(sent);
    });

    it('merges several conversations larger than a page with small ones, in id order', async () => {
      // With limit 2, p1's, p2's and p3's conversations (4 messages each) are read on their
      // own; on MySQL/MariaDB that is more parts than are read in parallel, so their ids are
      // merged in one statement, with the small ones' (p4: 1, the group: 2) shared scan. With
      // limit 4 all of them are small and share the one scan.
      const [me, p1, p2, p3, p4, owner] = await Promise.all(
        [0, 1, 2, 3, 4, 5].map(() => registerUser(t.http)),
      );
      const g = await groupWith(owner, [me]);
      const order = [p1, p2, owner, p3, p1, p4, p2, p3, p3, owner, p1, p2, p1, p3, p2];
      const sent: string[] = [];
      for (const [i, from] of order.entries()) {
        const target = from === owner ? { group_id: g } : { receiver_id: me.user_id };
        sent.push((await send(from, { type: 'text', content: `m${i}`, ...target })).message_id);
      }
      expect(await syncAll(me, 2)).toEqual(sent);
      expect(await syncAll(me, 4)).toEqual(sent);
    });

    it('finds a conversation whose newest ids run ahead of its updated_at', async () => {
      // updated_at is when the batch began: its ids may be taken later (after a lock wait) or
      // above those of an instance whose clock is ahead. Sync looks conversations up by
      // updated_at, with an allowance for that.
      const [me, peer] = await Promise.all([registerUser(t.http), registerUser(t.http)]);
      const msg = await send(peer, { type: 'text', content: 'ahead', receiver_id: me.user_id });
      const behind = new Date(Date.now() - 30 * 60_000);
      await t.dataSource
        .getRepository(Conversation)
        .update({ key: privateKey(me.user_id, peer.user_id) }, { updatedAt: behind });
      const after = uuidv7({ msecs: Date.now() - 60_000 });
      const res = await as(me).get('/chat/sync', { after }).expect(200);
      expect(res.body.data.messages.map((m: { message_id: string }) => m.message_id)).toEqual([
        msg.message_id,
      ]);
    });
  });

  describe('GET /api/v1/chat/conversations', () => {
    it('lists private and group conversations, newest activity first, with unread counts', async () => {
      const [me, p1, p2, owner] = await Promise.all([0, 1, 2, 3].map(() => registerUser(t.http)));
      await send(p1, { type: 'text', content: 'from p1', receiver_id: me.user_id });
      const g = await groupWith(owner, [me]);
      await send(me, { type: 'text', content: 'to p2', receiver_id: p2.user_id });
      await send(p2, { type: 'text', content: 'p2 again', receiver_id: me.user_id });
      const last = await send(p2, { type: 'text', content: 'p2 twice', receiver_id: me.user_id });
      const res = await as(me).get('/chat/conversations').expect(200);
      expect(res.body.data.total).toBe(3);
      const [first, second, third] = res.body.data.conversations;
      expect(first).toEqual({
        type: 'private',
        peer: {
          user_id: p2.user_id,
          username: p2.username,
          avatar: null,
          online: false,
          last_seen_at: null,
        },
        group: null,
        last_message: { ...last },
        unread_count: 2,
        updated_at: last.created_at,
      });
      expect(second).toEqual({
        type: 'group',
        peer: null,
        group: { group_id: g, name: 'chat', avatar: null },
        last_message: null,
        unread_count: 0,
        updated_at: expect.stringMatching(ISO),
      });
      expect(third).toMatchObject({
        type: 'private',
        peer: { user_id: p1.user_id },
        unread_count: 1,
      });
      const paged = await as(me).get('/chat/conversations', { limit: 1, offset: 1 }).expect(200);
      expect(paged.body.data).toEqual({ conversations: [second], total: 3 });
      const past = await as(me).get('/chat/conversations', { offset: 3 }).expect(200);
      expect(past.body.data).toEqual({ conversations: [], total: 3 });
      const nobody = await registerUser(t.http);
      const empty = await as(nobody).get('/chat/conversations').expect(200);
      expect(empty.body.data).toEqual({ conversations: [], total: 0 });
      await as(me).get('/chat/conversations', { limit: 0 }).expect(400);
      await as(me).get('/chat/conversations', { offset: 10_000_000_000 }).expect(400);
    });

    it("shows each peer's public profile: avatar, presence and last seen", async () => {
      const [me, away, here] = await Promise.all([0, 1, 2].map(() => registerUser(t.http)));
      await send(away, { type: 'text', content: 'a', receiver_id: me.user_id });
      await settle(5);
      await send(here, { type: 'text', content: 'h', receiver_id: me.user_id });
      await t.http
        .put('/api/v1/user/profile')
        .set(bearer(away.token))
        .send({ avatar: 'https://cdn.example.com/away.png' })
        .expect(200);
      const seen = new Date('2026-01-02T03:04:05.678Z');
      await t.dataSource.getRepository(User).update({ id: away.user_id }, { lastSeenAt: seen });
      await open(here);
      const res = await as(me).get('/chat/conversations').expect(200);
      expect(res.body.data.conversations.map((c: { peer: unknown }) => c.peer)).toEqual([
        {
          user_id: here.user_id,
          username: here.username,
          avatar: null,
          online: true,
          last_seen_at: null,
        },
        {
          user_id: away.user_id,
          username: away.username,
          avatar: 'https://cdn.example.com/away.png',
          online: false,
          last_seen_at: seen.toISOString(),
        },
      ]);
    });

    it('pages through many conversations of both kinds without gaps or repeats', async () => {
      const me = await registerUser(t.http);
      const peers = await Promise.all([0, 1, 2, 3, 4, 5].map(() => registerUser(t.http)));
      const owner = await registerUser(t.http);
      const expected: string[] = [];
      for (const [i, p] of peers.entries()) {
        // Both directions, so I am user_a of some conversations and user_b of others.
        await send(i % 2 ? me : p, {
          type: 'text',
          content: `c${i}`,
          receiver_id: i % 2 ? p.user_id : me.user_id,
        });
        expected.unshift(p.user_id);
        await settle(5); // distinct activity times
        if (i === 2) {
          const g = await groupWith(owner, [me]);
          await send(owner, { type: 'text', content: 'g', group_id: g });
          expected.unshift(g);
          await settle(5);
        }
      }
      const seen: string[] = [];
      for (let offset = 0; offset < 9; offset += 2) {
        const res = await as(me).get('/chat/conversations', { limit: 2, offset }).expect(200);
        expect(res.body.data.total).toBe(7);
        seen.push(
          ...res.body.data.conversations.map(
            (c: { peer: { user_id: string } | null; group: { group_id: string } | null }) =>
              c.peer?.user_id ?? c.group!.group_id,
          ),
        );
      }
      expect(seen).toEqual(expected);
    });

    // Each side of the list's statement (me as user_a, me as user_b) on its own: a side with
    // all of my conversations is the one whose page must end at the right row.
    describe.each(['user_a', 'user_b'] as const)(
      'activity spread over several seconds, me as %s',
      (side) => {
        // Activity times (ms into a whole second S): several conversations share a second, so
        // pages end inside a second as well as between seconds.
        const layout = [3_900, 3_100, 2_800, 2_500, 2_200, 1_400, 600, 300, 0];
        const base = Math.floor(Date.parse('2026-06-01T12:00:00.000Z') / 1000) * 1000;
        let me: TestUser;
        let order: string[]; // peer ids, most recent activity first

        beforeAll(async () => {
          // The smallest id is user_a of all its conversations, the largest user_b.
          const users = await Promise.all([...layout, 0].map(() => registerUser(t.http)));
          users.sort((x, y) => (x.user_id < y.user_id ? -1 : 1));
          me = side === 'user_a' ? users[0] : users[users.length - 1];
          const peers = users.filter((u) => u !== me);
          const repo = t.dataSource.getRepository(Conversation);
          for (const [i, p] of peers.entries()) {
            await send(i % 2 ? me : p, {
              type: 'text',
              content: `s${i}`,
              receiver_id: i % 2 ? p.user_id : me.user_id,
            });
          }
          // Listed in send order otherwise; set out of it on purpose.
          const shuffled = [4, 0, 7, 2, 8, 5, 1, 3, 6].map((i) => peers[i]);
          for (const [j, p] of shuffled.entries()) {
            const at = base + layout[j];
            const key = privateKey(me.user_id, p.user_id);
            expect(await repo.findOneByOrFail({ key })).toMatchObject({
              [side === 'user_a' ? 'userA' : 'userB']: me.user_id,
            });
            await repo.update(
              { key },
              { updatedAt: new Date(at), activeSecond: Math.floor(at / 1000) },
            );
          }
          order = shuffled.map((p) => p.user_id);
        });

        it('lists them by exact activity time on every page, a page ending inside a second or between two', async () => {
          for (const limit of [1, 2, 3, 4]) {
            for (let offset = 0; offset <= layout.length; offset += 1) {
              const res = await as(me).get('/chat/conversations', { limit, offset }).expect(200);
              expect(res.body.data.total).toBe(layout.length);
              const page = res.body.data.conversations as {
                peer: { user_id: string };
                updated_at: string;
              }[];
              expect(page.map((c) => c.peer.user_id)).toEqual(order.slice(offset, offset + limit));
              expect(page.map((c) => c.updated_at)).toEqual(
                layout.slice(offset, offset + limit).map((ms) => new Date(base + ms).toISOString()),
              );
            }
          }
        });

        it('fills active_second from updated_at when the migration runs on existing rows', async () => {
          const runner = t.dataSource.createQueryRunner();
          try {
            await new ConversationActiveSecond1764000004000().down(runner);
            await new ConversationActiveSecond1764000004000().up(runner);
          } finally {
            await runner.release();
          }
          const rows = await t.dataSource
            .getRepository(Conversation)
            .find({ where: [{ userA: me.user_id }, { userB: me.user_id }] });
          const second = new Map(
            order.map((peer, j) => [
              privateKey(me.user_id, peer),
              Math.floor((base + layout[j]) / 1000),
            ]),
          );
          expect(new Map(rows.map((r) => [r.key, r.activeSecond]))).toEqual(second);
          const res = await as(me).get('/chat/conversations', { limit: 3, offset: 2 }).expect(200);
          expect(
            res.body.data.conversations.map((c: { peer: { user_id: string } }) => c.peer.user_id),
          ).toEqual(order.slice(2, 5));
        });
      },
    );
  });
});
