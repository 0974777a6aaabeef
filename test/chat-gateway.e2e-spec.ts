import { Message } from '../src/chat/message.entity';
import * as coalesceWrites from '../src/common/ws/coalesce-writes';
import { User } from '../src/users/user.entity';
import { createTestApp, onMysql, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';
import {
  ClientSocket,
  connect,
  emitAck,
  openSocket,
  Recorder,
  settle,
  waitForEvent,
} from './support/sockets';

const UNAUTHORIZED = '未授权或 token 无效';

describe('Socket gateway (e2e)', () => {
  let t: TestApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT: '16kb', TYPING_RATE_LIMIT: '3' } });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(() => t.close());

  const open = async (user: TestUser, via?: 'header' | 'auth' | 'query') => {
    const s = await connect(t.url, user.token, { via });
    sockets.push(s);
    return s;
  };
  const post = (user: TestUser, path: string, body: object = {}) =>
    t.http.post(`/api/v1${path}`).set(bearer(user.token)).send(body);

  async function refused(token: string | undefined, via: 'header' | 'auth' | 'query' = 'header') {
    const s = openSocket(t.url, token, { via });
    sockets.push(s);
    return new Promise<Error & { data?: unknown }>((resolve, reject) => {
      s.once('connect', () => reject(new Error('connected with a bad token')));
      s.once('connect_error', (err) => resolve(err));
    });
  }

  describe('handshake', () => {
    it.each(['header', 'auth', 'query'] as const)(
      'accepts a valid token given as %s',
      async (via) => {
        const user = await registerUser(t.http);
        const s = await open(user, via);
        expect(s.connected).toBe(true);
      },
    );

    it('refuses a missing, forged or revoked token with connect_error 未授权或 token 无效', async () => {
      const user = await registerUser(t.http);
      expect((await refused(undefined)).message).toBe(UNAUTHORIZED);
      expect((await refused('not.a.jwt', 'auth')).message).toBe(UNAUTHORIZED);
      const [head, payload] = user.token.split('.');
      expect((await refused(`${head}.${payload}.${'A'.repeat(43)}`, 'query')).message).toBe(
        UNAUTHORIZED,
      );
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      expect((await refused(none)).message).toBe(UNAUTHORIZED);
      await post(user, '/logout').expect(200);
      const err = await refused(user.token);
      expect(err.message).toBe(UNAUTHORIZED);
      expect(err.data).toEqual({ code: 401, message: UNAUTHORIZED, error: 'token revoked' });
    });

    it('runs no handler for a refused socket, even for events sent at once', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const sb = await open(b);
      const rec = new Recorder(sb, ['message:new']);
      const bad = openSocket(t.url, 'forged-token');
      sockets.push(bad);
      bad.emit('message:send', { type: 'text', content: 'sneaky', receiver_id: b.user_id });
      await new Promise((r) => bad.once('connect_error', r));
      await settle(300);
      expect(rec.of('message:new')).toEqual([]);
      expect(await t.dataSource.getRepository(Message).countBy({ content: 'sneaky' })).toBe(0);
      void a;
    });

    it('disconnects the sockets of a token that logs out, and only those', async () => {
      const user = await registerUser(t.http);
      const other = await post(user, '/login', {
        email: user.email,
        password: user.password,
      }).expect(200);
      const s1 = await open(user);
      const s2 = await connect(t.url, other.body.data.token);
      sockets.push(s2);
      const gone = waitForEvent(s1, 'disconnect');
      const why = waitForEvent(s1, 'exception');
      await post(user, '/logout').expect(200);
      expect(await why).toEqual({ code: 401, message: UNAUTHORIZED, error: 'token revoked' });
      expect(await gone).toBe('io server disconnect');
      await settle();
      expect(s2.connected).toBe(true);
    });

    it('disconnects every older socket on a password change', async () => {
      const user = await registerUser(t.http);
      const s1 = await open(user);
      const gone = waitForEvent(s1, 'disconnect');
      const res = await t.http
        .put('/api/v1/user/password')
        .set(bearer(user.token))
        .send({ old_password: user.password, new_password: 'a-new-password' })
        .expect(200);
      expect(await gone).toBe('io server disconnect');
      const fresh = await connect(t.url, res.body.data.token);
      sockets.push(fresh);
      expect(fresh.connected).toBe(true);
    });
  });

  describe('rooms and group events', () => {
    it('joins group rooms on connect and follows membership live', async () => {
      const [owner, joiner, outsider] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      const g = (await post(owner, '/group', { name: 'rooms', description: '' }).expect(200)).body
        .data.group_id;
      const [so, sj, sx] = [await open(owner), await open(joiner), await open(outsider)];
      const names = [
        'message:new',
        'group:member_added',
        'group:member_removed',
        'group:updated',
        'group:deleted',
      ];
      const [ro, rj, rx] = [so, sj, sx].map((s) => new Recorder(s, names));

      await post(owner, `/group/${g}/members`, { user_ids: [joiner.user_id] }).expect(200);
      await rj.waitFor((r) => r.of('group:member_added').length === 1);
      expect(rj.of('group:member_added')).toEqual([
        { group_id: g, user_id: joiner.user_id, actor_id: owner.user_id },
      ]);
      await ro.waitFor((r) => r.of('group:member_added').length === 1);

      await post(owner, '/chat/message', { type: 'text', content: 'welcome', group_id: g }).expect(
        200,
      );
      await rj.waitFor((r) => r.of('message:new').length === 1);

      await t.http
        .put(`/api/v1/group/${g}`)
        .set(bearer(owner.token))
        .send({ name: 'renamed' })
        .expect(200);
      await rj.waitFor((r) => r.of('group:updated').length === 1);
      expect(rj.of('group:updated')).toEqual([
        { group_id: g, actor_id: owner.user_id, name: 'renamed' },
      ]);
      await t.http
        .put(`/api/v1/group/${g}/members/${joiner.user_id}/role`)
        .set(bearer(owner.token))
        .send({ role: 'admin' })
        .expect(200);
      await rj.waitFor((r) => r.of('group:updated').length === 2);
      expect(rj.of('group:updated')[1]).toEqual({
        group_id: g,
        actor_id: owner.user_id,
        roles: [{ user_id: joiner.user_id, role: 'admin' }],
      });

      await post(joiner, `/group/${g}/leave`).expect(200);
      await rj.waitFor((r) => r.of('group:member_removed').length === 1);
      expect(rj.of('group:member_removed')).toEqual([
        { group_id: g, user_id: joiner.user_id, actor_id: joiner.user_id, reason: 'left' },
      ]);
      await post(owner, '/chat/message', {
        type: 'text',
        content: 'after leaving',
        group_id: g,
      }).expect(200);
      await ro.waitFor((r) => r.of('message:new').length === 2);

      await t.http.delete(`/api/v1/group/${g}`).set(bearer(owner.token)).expect(200);
      await ro.waitFor((r) => r.of('group:deleted').length === 1);
      expect(ro.of('group:deleted')).toEqual([{ group_id: g, actor_id: owner.user_id }]);
      await settle();
      expect(rj.of('message:new')).toHaveLength(1);
      expect(rj.of('group:deleted')).toEqual([]);
      expect(rx.events).toEqual([]);
    });
    it('delivers a group fan-out coalesced on a busy event loop: every message once, in order, to members only', async () => {
      const [owner, m1, m2, outsider] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      const g = (await post(owner, '/group', { name: 'busy', description: '' }).expect(200)).body
        .data.group_id;
      await post(owner, `/group/${g}/members`, { user_ids: [m1.user_id, m2.user_id] }).expect(200);
      const [so, s1, s2, sx] = [
        await open(owner),
        await open(m1),
        await open(m2),
        await open(outsider),
      ];
      const [ro, r1, r2, rx] = [so, s1, s2, sx].map((s) => new Recorder(s, ['message:new']));

      // The server runs in this process: keep its event loop more than half busy, so that a
      // group's fan-out takes the deferred, corked path of coalesce-writes.ts.
      const coalesced = coalesceWrites.coalescing;
      const busyAtFanOut: boolean[] = [];
      const spy = jest.spyOn(coalesceWrites, 'coalescing').mockImplementation((send) => {
        busyAtFanOut.push(coalesceWrites.loopBusy());
        return coalesced(send);
      });
      const hog = setInterval(() => {
        const end = Date.now() + 80;
        while (Date.now() < end);
      }, 100);
      const senders: string[] = [];
      try {
        const deadline = Date.now() + 3000;
        while (!coalesceWrites.loopBusy() && Date.now() < deadline) await settle(20);
        const send = async (from: TestUser, content: string, to: object = { group_id: g }) => {
          await post(from, '/chat/message', { type: 'text', content, ...to }).expect(200);
          senders.push(from.user_id);
        };
        await send(owner, 'g0');
        await send(owner, 'g1');
        // A private message goes out at once, but after what m1's connection already waits for.
        await send(owner, 'p', { receiver_id: m1.user_id });
        const ack = await emitAck(s2, 'message:send', { type: 'text', content: 'g2', group_id: g });
        expect(ack.code).toBe(200);
        senders.push(m2.user_id);
        await send(owner, 'g3');
      } finally {
        clearInterval(hog);
        spy.mockRestore();
      }
      // Every group message took the coalesced path, on a loop seen as busy.
      expect(busyAtFanOut).toEqual([true, true, true, true]);

      const contents = (r: Recorder) => r.of('message:new').map((m) => m.content);
      await r1.waitFor((r) => r.of('message:new').length >= 5);
      await r2.waitFor((r) => r.of('message:new').length >= 3);
      await ro.waitFor((r) => r.of('message:new').length >= 5);
      await settle();
      // m1 and the owner's device get all of it, in send order, once (the owner sent over HTTP);
      // m2 not what its own socket sent; the outsider nothing.
      expect(contents(r1)).toEqual(['g0', 'g1', 'p', 'g2', 'g3']);
      expect(r1.of('message:new').map((m) => m.sender_id)).toEqual(senders);
      expect(contents(ro)).toEqual(['g0', 'g1', 'p', 'g2', 'g3']);
      expect(contents(r2)).toEqual(['g0', 'g1', 'g3']);
      expect(rx.events).toEqual([]);
    });
  });

  describe('typing and presence', () => {
    it('relays typing to the peer or the group only, and limits it per socket', async () => {
      const [a, b, c, outsider] = await Promise.all([0, 1, 2, 3].map(() => registerUser(t.http)));
      const g = (await post(a, '/group', { name: 'typing', description: '' }).expect(200)).body.data
        .group_id;
      await post(a, `/group/${g}/members`, { user_ids: [c.user_id] }).expect(200);
      const [sa, sb, sc, sx] = [await open(a), await open(b), await open(c), await open(outsider)];
      const [ra, rb, rc, rx] = [sa, sb, sc, sx].map((s) => new Recorder(s, ['typing']));
      expect(await emitAck(sa, 'typing', { receiver_id: b.user_id })).toEqual({
        code: 200,
        message: 'success',
        data: null,
      });
      await rb.waitFor((r) => r.of('typing').length === 1);
      expect(rb.of('typing')).toEqual([
        { user_id: a.user_id, receiver_id: b.user_id, group_id: null },
      ]);
      await emitAck(sa, 'typing', { group_id: g });
      await rc.waitFor((r) => r.of('typing').length === 1);
      expect(rc.of('typing')).toEqual([{ user_id: a.user_id, receiver_id: null, group_id: g }]);
      expect(await emitAck(sx, 'typing', { group_id: g })).toMatchObject({ code: 403 });
      expect(
        await emitAck(sx, 'typing', { receiver_id: '7d8b1a52-3f0c-4a53-9d6e-5b0f6f8f1a2b' }),
      ).toMatchObject({
        code: 404,
      });
      // TYPING_RATE_LIMIT=3 per 5 s: the third is allowed, the fourth is refused.
      expect(await emitAck(sa, 'typing', { group_id: g })).toMatchObject({ code: 200 });
      expect(await emitAck(sa, 'typing', { group_id: g })).toMatchObject({
        code: 429,
        message: '请求过于频繁',
      });
      expect(sa.connected).toBe(true);
      await settle();
      expect(ra.of('typing')).toEqual([]);
      expect(rx.of('typing')).toEqual([]);
      expect(rb.of('typing')).toHaveLength(1);
      expect(rc.of('typing')).toHaveLength(2);
    });

    it('announces online and offline (after the last device) to users who share a conversation', async () => {
      const [a, b, stranger] = [
        await registerUser(t.http),
        await registerUser(t.http),
        await registerUser(t.http),
      ];
      await post(a, '/chat/message', {
        type: 'text',
        content: 'hi',
        receiver_id: b.user_id,
      }).expect(200);
      const [sb, ss] = [await open(b), await open(stranger)];
      const [rb, rs] = [sb, ss].map((s) => new Recorder(s, ['presence']));
      const a1 = await open(a);
      await rb.waitFor((r) => r.of('presence').length === 1);
      expect(rb.of('presence')).toEqual([{ user_id: a.user_id, online: true, last_seen_at: null }]);
      const profile = await t.http
        .get(`/api/v1/user/${a.user_id}`)
        .set(bearer(b.token))
        .expect(200);
      expect(profile.body.data).toMatchObject({ online: true });

      const a2 = await open(a);
      a1.disconnect();
      await settle(200);
      expect(rb.of('presence')).toHaveLength(1); // still online on a2
      a2.disconnect();
      await rb.waitFor((r) => r.of('presence').length === 2);
      const offline = rb.of('presence')[1];
      expect(offline).toEqual({
        user_id: a.user_id,
        online: false,
        last_seen_at: expect.any(String),
      });
      const after = await t.http.get(`/api/v1/user/${a.user_id}`).set(bearer(b.token)).expect(200);
      expect(after.body.data).toEqual(
        expect.objectContaining({ online: false, last_seen_at: offline.last_seen_at }),
      );
      expect(rs.of('presence')).toEqual([]);
    });
  });

  describe('robustness', () => {
    it.each([
      ['a string', 'junk'],
      ['a number', 42],
      ['null', null],
      ['an array', [1, 2]],
      ['a nested object', { type: { $ne: 1 }, content: 'x', receiver_id: 'y' }],
    ])('answers %s as a payload with a 400 ack and keeps the socket', async (_name, payload) => {
      const user = await registerUser(t.http);
      const s = await open(user);
      expect(await emitAck(s, 'message:send', payload)).toMatchObject({
        code: 400,
        message: '请求参数错误',
      });
      expect(await emitAck(s, 'message:read', payload)).toMatchObject({ code: 400 });
      expect(await emitAck(s, 'typing', payload)).toMatchObject({ code: 400 });
      expect(s.connected).toBe(true);
    });

    it('answers an unknown event with a 404 ack', async () => {
      const user = await registerUser(t.http);
      const s = await open(user);
      expect(await emitAck(s, 'message:delete', { message_id: 'x' })).toEqual({
        code: 404,
        message: '资源不存在',
        error: 'unknown event message:delete',
      });
      expect(s.connected).toBe(true);
    });

    it('reports an unknown event without an ack as `exception`', async () => {
      const user = await registerUser(t.http);
      const s = await open(user);
      const error = waitForEvent(s, 'exception');
      s.emit('foo:bar', { a: 1 });
      expect(await error).toEqual({
        code: 404,
        message: '资源不存在',
        error: 'unknown event foo:bar',
      });
    });

    it('handles a valid event sent without an ack like any other', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const [sa, sb] = [await open(a), await open(b)];
      const delivered = waitForEvent<{ content: string; sender_id: string }>(sb, 'message:new');
      sa.emit('message:send', { type: 'text', content: 'no ack', receiver_id: b.user_id });
      expect(await delivered).toMatchObject({ content: 'no ack', sender_id: a.user_id });
    });

    it('reports a failed event as `exception` when the client gives no ack', async () => {
      const user = await registerUser(t.http);
      const s = await open(user);
      const error = waitForEvent(s, 'exception');
      s.emit('message:send', { type: 'text' });
      expect(await error).toMatchObject({ code: 400, message: '请求参数错误' });
    });

    it('drops only the socket that sends a frame over the size limit', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const [big, sb] = [await open(a), await open(b)];
      const gone = waitForEvent(big, 'disconnect');
      big.emit('message:send', {
        type: 'text',
        content: 'x'.repeat(40 * 1024),
        receiver_id: b.user_id,
      });
      expect(await gone).toBe('transport close');
      expect(sb.connected).toBe(true);
      expect(await emitAck(sb, 'typing', { receiver_id: a.user_id })).toMatchObject({ code: 200 });
    });

    it('sends no message:new when the database write fails', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const [sa, sb] = [await open(a), await open(b)];
      const rec = new Recorder(sb, ['message:new']);
      const table = onMysql ? '`messages`' : '"messages"';
      await t.dataSource.query(
        `ALTER TABLE ${table} RENAME TO ${onMysql ? '`messages_away`' : '"messages_away"'}`,
      );
      try {
        const res = await post(a, '/chat/message', {
          type: 'text',
          content: 'lost?',
          receiver_id: b.user_id,
        });
        expect(res.status).toBe(500);
        expect(JSON.stringify(res.body)).not.toMatch(/messages|INSERT|SQL/i);
        expect(
          await emitAck(sa, 'message:send', {
            type: 'text',
            content: 'lost?',
            receiver_id: b.user_id,
          }),
        ).toMatchObject({ code: 500 });
      } finally {
        await t.dataSource.query(
          `ALTER TABLE ${onMysql ? '`messages_away`' : '"messages_away"'} RENAME TO ${table}`,
        );
      }
      await settle(200);
      expect(rec.of('message:new')).toEqual([]);
      expect(sa.connected && sb.connected).toBe(true);
      await post(a, '/chat/message', {
        type: 'text',
        content: 'works again',
        receiver_id: b.user_id,
      }).expect(200);
      await rec.waitFor((r) => r.of('message:new').length === 1);
    });

    it('loses nothing across a reconnect: `after` returns every missed message, in order, once', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const sb = await open(b);
      const rec = new Recorder(sb, ['message:new']);
      await post(a, '/chat/message', {
        type: 'text',
        content: 'before',
        receiver_id: b.user_id,
      }).expect(200);
      await rec.waitFor((r) => r.of('message:new').length === 1);
      const lastSeen = rec.of('message:new')[0].message_id;
      sb.disconnect();
      const missed = [];
      for (let i = 0; i < 7; i += 1) {
        missed.push(
          (
            await post(a, '/chat/message', {
              type: 'text',
              content: `missed ${i}`,
              receiver_id: b.user_id,
            }).expect(200)
          ).body.data,
        );
      }
      const back = await open(b);
      const live = new Recorder(back, ['message:new']);
      const caughtUp = [];
      let after = lastSeen;
      for (;;) {
        const page = await t.http
          .get('/api/v1/chat/messages')
          .query({ receiver_id: a.user_id, after, limit: 3 })
          .set(bearer(b.token))
          .expect(200);
        caughtUp.push(...page.body.data.messages);
        if (!page.body.data.has_more) break;
        after = page.body.data.messages.at(-1).message_id;
      }
      expect(caughtUp.map((m: { message_id: string }) => m.message_id)).toEqual(
        missed.map((m) => m.message_id),
      );
      const next = (
        await post(a, '/chat/message', {
          type: 'text',
          content: 'live again',
          receiver_id: b.user_id,
        }).expect(200)
      ).body.data;
      await live.waitFor((r) => r.of('message:new').length === 1);
      expect(live.of('message:new')[0].message_id).toBe(next.message_id);
    });

    it('never puts a password hash or an email of others in socket events', async () => {
      const [a, b] = [await registerUser(t.http), await registerUser(t.http)];
      const sb = await open(b);
      const all: unknown[] = [];
      sb.onAny((...args: unknown[]) => all.push(args));
      await post(a, '/chat/message', { type: 'text', content: 'x', receiver_id: b.user_id }).expect(
        200,
      );
      const sa = await open(a);
      await settle(200);
      sa.disconnect();
      await settle(200);
      const text = JSON.stringify(all);
      expect(text).not.toContain(a.email);
      expect(text).not.toMatch(/\$2[aby]\$/);
      expect(await t.dataSource.getRepository(User).countBy({ id: a.user_id })).toBe(1);
    });
  });
});
