import { createHmac } from 'node:crypto';
import { Message } from '../src/chat/message.entity';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';
import { connect, emitAck, openSocket, waitForEvent } from './support/sockets';

/** What an attacker would try, and what must hold: a clean 4xx, nothing changed, nothing leaked. */
const LEAK =
  /QueryFailedError|ER_[A-Z_]+|SQLITE_|syntax|SELECT |INSERT |\bat [\w.]+ \(|node_modules|\$2[aby]\$/;
const SQL = `'; DROP TABLE users; -- " OR 1=1 /* \\ %_`;
const HUGE = 'x'.repeat(100 * 1024);

function expectClean(
  res: { status: number; body: unknown },
  allowed: number[] = [400, 401, 403, 404, 409, 413],
) {
  expect(allowed).toContain(res.status);
  expect(res.body).toEqual({
    code: res.status,
    message: expect.any(String),
    error: expect.any(String),
  });
  expect(JSON.stringify(res.body)).not.toMatch(LEAK);
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const sign = (payload: object, secret = TEST_JWT_SECRET) => {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
};

describe('Security (e2e)', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let groupId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT: '256kb' } });
    [alice, bob, mallory] = [
      await registerUser(t.http),
      await registerUser(t.http),
      await registerUser(t.http),
    ];
    await t.http
      .post('/api/v1/chat/message')
      .set(bearer(alice.token))
      .send({ type: 'text', content: 'secret between alice and bob', receiver_id: bob.user_id })
      .expect(200);
    groupId = (
      await t.http
        .post('/api/v1/group')
        .set(bearer(alice.token))
        .send({ name: 'inner', description: '' })
        .expect(200)
    ).body.data.group_id;
    await t.http
      .post('/api/v1/chat/message')
      .set(bearer(alice.token))
      .send({ type: 'text', content: 'group secret', group_id: groupId })
      .expect(200);
  });
  afterEach(async () => {
    await t.http.get('/health/ready').expect(200); // the process is alive and well after every attack
  });
  afterAll(() => t.close());

  it("cannot read other users' private history or mark it read", async () => {
    const asMallory = await t.http
      .get('/api/v1/chat/messages')
      .query({ receiver_id: bob.user_id })
      .set(bearer(mallory.token))
      .expect(200);
    expect(JSON.stringify(asMallory.body)).not.toContain('secret between');
    const sync = await t.http.get('/api/v1/chat/sync').set(bearer(mallory.token)).expect(200);
    expect(sync.body.data.messages).toEqual([]);
    const secret = await t.dataSource
      .getRepository(Message)
      .findOneByOrFail({ content: 'secret between alice and bob' });
    expectClean(
      await t.http
        .post('/api/v1/chat/read')
        .set(bearer(mallory.token))
        .send({ receiver_id: alice.user_id, message_id: secret.id }),
      [404],
    );
    const convs = await t.http
      .get('/api/v1/chat/conversations')
      .set(bearer(mallory.token))
      .expect(200);
    expect(convs.body.data.total).toBe(0);
  });

  it('cannot touch a group it is not in', async () => {
    const attempts = [
      t.http.get(`/api/v1/group/${groupId}`),
      t.http.get(`/api/v1/group/${groupId}/members`),
      t.http.put(`/api/v1/group/${groupId}`).send({ name: 'owned' }),
      t.http.delete(`/api/v1/group/${groupId}`),
      t.http.post(`/api/v1/group/${groupId}/members`).send({ user_ids: [mallory.user_id] }),
      t.http
        .put(`/api/v1/group/${groupId}/members/${mallory.user_id}/role`)
        .send({ role: 'admin' }),
      t.http.post(`/api/v1/group/${groupId}/leave`),
      t.http.get('/api/v1/chat/messages').query({ group_id: groupId }),
      t.http.post('/api/v1/chat/message').send({ type: 'text', content: 'hi', group_id: groupId }),
    ];
    for (const attempt of attempts) expectClean(await attempt.set(bearer(mallory.token)), [403]);
    const socket = await connect(t.url, mallory.token);
    try {
      expect(
        await emitAck(socket, 'message:send', { type: 'text', content: 'hi', group_id: groupId }),
      ).toMatchObject({ code: 403 });
      expect(await emitAck(socket, 'typing', { group_id: groupId })).toMatchObject({ code: 403 });
    } finally {
      socket.disconnect();
    }
    const members = await t.http
      .get(`/api/v1/group/${groupId}/members`)
      .set(bearer(alice.token))
      .expect(200);
    expect(members.body.data.total).toBe(1);
  });

  it('refuses forged, expired, revoked and alg:none tokens on HTTP and on the socket handshake', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: mallory.user_id,
      jti: '00000000-0000-4000-8000-000000000001',
      ver: 0,
      iat: now,
      exp: now + 600,
    };
    const revoked = (
      await t.http
        .post('/api/v1/login')
        .send({ email: mallory.email, password: mallory.password })
        .expect(200)
    ).body.data.token;
    await t.http.post('/api/v1/logout').set(bearer(revoked)).expect(200);
    const tokens = {
      forged: sign(claims, 'not-the-secret-not-the-secret-not-the-secret'),
      expired: sign({ ...claims, iat: now - 7200, exp: now - 3600 }),
      revoked,
      none: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      otherUser: sign({ ...claims, sub: alice.user_id, ver: 99 }),
      garbage: "'; DROP TABLE users; --",
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await t.http.get('/api/v1/user/profile').set(bearer(token));
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expectClean(res, [401]);
      const socket = openSocket(t.url, token, { via: 'auth' });
      const err = await waitForEvent<Error>(socket, 'connect_error');
      socket.disconnect();
      expect({ name, message: err.message }).toEqual({ name, message: '未授权或 token 无效' });
    }
  });

  it('refuses oversized bodies and drops only an oversized socket frame', async () => {
    expectClean(
      await t.http
        .post('/api/v1/register')
        .send({ username: 'x', email: 'x@example.com', password: 'x'.repeat(300 * 1024) }),
      [413],
    );
    const socket = await connect(t.url, mallory.token);
    const gone = waitForEvent(socket, 'disconnect');
    socket.emit('message:send', {
      type: 'text',
      content: 'x'.repeat(300 * 1024),
      receiver_id: bob.user_id,
    });
    expect(await gone).toBe('transport close');
  });

  describe('SQL metacharacters and 100 KB strings in every text field', () => {
    const values = [SQL, HUGE];

    it.each(values.map((v) => [v.length > 100 ? '100 KB' : 'SQL', v]))(
      'register and login (%s)',
      async (_n, v) => {
        const before = await t.dataSource.query('SELECT COUNT(*) AS n FROM users');
        for (const body of [
          { username: v, email: 'e@example.com', password: 'password-123' },
          { username: 'okname', email: v, password: 'password-123' },
          { username: 'okname', email: 'e@example.com', password: 'password-123', phone: v },
          ...(v === HUGE ? [{ username: 'okname', email: 'e@example.com', password: v }] : []),
        ]) {
          expectClean(await t.http.post('/api/v1/register').send(body), [400]);
        }
        expectClean(await t.http.post('/api/v1/login').send({ email: v, password: v }), [400, 401]);
        const after = await t.dataSource.query('SELECT COUNT(*) AS n FROM users');
        expect(Number(after[0].n)).toBe(Number(before[0].n));
        if (v === SQL) {
          // As a password it is legal text: hashed, never interpreted, and it logs in.
          const body = { username: 'sqlpw', email: 'sqlpw@example.com', password: SQL };
          await t.http.post('/api/v1/register').send(body).expect(200);
          await t.http.post('/api/v1/login').send({ email: body.email, password: SQL }).expect(200);
        }
      },
    );

    it.each(values.map((v) => [v.length > 100 ? '100 KB' : 'SQL', v]))(
      'profile, search and ids (%s)',
      async (_n, v) => {
        for (const body of [{ username: v }, { avatar: v }, { phone: v }]) {
          expectClean(
            await t.http.put('/api/v1/user/profile').set(bearer(mallory.token)).send(body),
            [400],
          );
        }
        const search = await t.http
          .get('/api/v1/user/search')
          .query({ keyword: v.slice(0, 200) })
          .set(bearer(mallory.token));
        expect([200, 400]).toContain(search.status);
        expect(JSON.stringify(search.body)).not.toMatch(LEAK);
        if (search.status === 200) expect(search.body.data.users).toEqual([]);
        expectClean(
          await t.http
            .get(`/api/v1/user/${encodeURIComponent(v.slice(0, 2000))}`)
            .set(bearer(mallory.token)),
          [400, 404],
        );
        expectClean(
          await t.http
            .get('/api/v1/chat/messages')
            .query({ receiver_id: v.slice(0, 2000) })
            .set(bearer(mallory.token)),
          [400],
        );
        const profile = await t.http
          .get('/api/v1/user/profile')
          .set(bearer(mallory.token))
          .expect(200);
        expect(profile.body.data).toMatchObject({
          username: mallory.username,
          avatar: null,
          phone: null,
        });
      },
    );

    it.each(values.map((v) => [v.length > 100 ? '100 KB' : 'SQL', v]))(
      'groups and messages (%s)',
      async (_n, v) => {
        const group = await t.http
          .post('/api/v1/group')
          .set(bearer(mallory.token))
          .send({ name: v, description: v });
        if (v === SQL) {
          // Legal text: stored verbatim, never interpreted.
          expect(group.status).toBe(200);
          expect(group.body.data).toMatchObject({ name: SQL, description: SQL });
        } else {
          expectClean(group, [400]);
        }
        const msg = await t.http
          .post('/api/v1/chat/message')
          .set(bearer(mallory.token))
          .send({
            type: 'text',
            content: v,
            receiver_id: bob.user_id,
            client_msg_id: v.slice(0, 64),
          });
        if (v === SQL) {
          expectClean(msg, [400]); // the client_msg_id has spaces: refused
          const ok = await t.http
            .post('/api/v1/chat/message')
            .set(bearer(mallory.token))
            .send({ type: 'text', content: SQL, receiver_id: bob.user_id })
            .expect(200);
          expect(ok.body.data.content).toBe(SQL);
        } else {
          expectClean(msg, [400]);
        }
        expect(
          await t.dataSource
            .getRepository(Message)
            .countBy({ content: 'secret between alice and bob' }),
        ).toBe(1);
      },
    );
  });

  it('finds no file outside the upload folder', async () => {
    for (const path of [
      '/api/v1/files/..%2F..%2F.env',
      '/api/v1/files/%2e%2e%2f%2e%2e%2fpackage.json',
      '/api/v1/files/..%5C..%5Cpackage.json',
    ]) {
      expectClean(await t.http.get(path), [404]);
    }
  });
});
