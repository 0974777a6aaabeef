import { createTestApp, freshDatabase, onMysql, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';
import { ClientSocket, connect, emitAck, Recorder, settle, waitForEvent } from './support/sockets';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Two instances of the real application on two ports, one MariaDB database, one Redis: what a
 * deployment behind a load balancer looks like. Runs with `npm run test:e2e:cluster`.
 */
const redisUrl = process.env.E2E_REDIS_URL;
const describeCluster = redisUrl && onMysql ? describe : describe.skip;

describeCluster('Two instances on Redis (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let dropDb: () => Promise<void>;
  let redisProxy: TcpProxy;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const db = await freshDatabase();
    dropDb = db.drop;
    // Redis is reached through a proxy the last test cuts and restores.
    const redis = new URL(redisUrl!);
    redisProxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    redis.host = `127.0.0.1:${redisProxy.port}`;
    const env = { REDIS_URL: redis.toString(), RATE_LIMIT_MESSAGES: '30/60' };
    a = await createTestApp({ databaseUrl: db.url, env });
    b = await createTestApp({ databaseUrl: db.url, env });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await redisProxy.restore();
    await a.close();
    await b.close();
    await dropDb();
    await redisProxy.stop();
  });

  const on = async (app: TestApp, user: TestUser) => {
    const s = await connect(app.url, user.token);
    sockets.push(s);
    return s;
  };

  it('delivers a private message sent on A to the receiver on B, and the sender’s socket on B', async () => {
    const [x, y] = [await registerUser(a.http), await registerUser(b.http)];
    const [yOnB, xOnB] = [await on(b, y), await on(b, x)];
    const [ry, rx] = [new Recorder(yOnB, ['message:new']), new Recorder(xOnB, ['message:new'])];
    const sent = await a.http
      .post('/api/v1/chat/message')
      .set(bearer(x.token))
      .send({ type: 'text', content: 'across', receiver_id: y.user_id })
      .expect(200);
    await ry.waitFor((r) => r.of('message:new').length === 1);
    await rx.waitFor((r) => r.of('message:new').length === 1);
    expect(ry.of('message:new')).toEqual([sent.body.data]);
  });

  it('delivers group messages across instances and follows membership changes made on the other one', async () => {
    const [owner, m1, joiner, outsider] = [
      await registerUser(a.http),
      await registerUser(a.http),
      await registerUser(b.http),
      await registerUser(b.http),
    ];
    const g = (
      await a.http
        .post('/api/v1/group')
        .set(bearer(owner.token))
        .send({ name: 'c', description: '' })
        .expect(200)
    ).body.data.group_id;
    await a.http
      .post(`/api/v1/group/${g}/members`)
      .set(bearer(owner.token))
      .send({ user_ids: [m1.user_id] })
      .expect(200);
    const [m1OnB, joinerOnB, outsiderOnA] = [
      await on(b, m1),
      await on(b, joiner),
      await on(a, outsider),
    ];
    const [r1, rj, ro] = [m1OnB, joinerOnB, outsiderOnA].map(
      (s) => new Recorder(s, ['message:new', 'group:member_added']),
    );

    // Joiner's socket lives on B; the membership change happens on A.
    await a.http
      .post(`/api/v1/group/${g}/members`)
      .set(bearer(owner.token))
      .send({ user_ids: [joiner.user_id] })
      .expect(200);
    await rj.waitFor((r) => r.of('group:member_added').length === 1);
    const ack = await emitAck(await on(a, owner), 'message:send', {
      type: 'text',
      content: 'hello all',
      group_id: g,
    });
    expect(ack.code).toBe(200);
    await r1.waitFor((r) => r.of('message:new').length === 1);
    await rj.waitFor((r) => r.of('message:new').length === 1);

    // Removal on B takes the socket on B out of the room at once.
    await b.http
      .delete(`/api/v1/group/${g}/members/${joiner.user_id}`)
      .set(bearer(owner.token))
      .expect(200);
    await settle(200);
    await a.http
      .post('/api/v1/chat/message')
      .set(bearer(owner.token))
      .send({ type: 'text', content: 'after', group_id: g })
      .expect(200);
    await r1.waitFor((r) => r.of('message:new').length === 2);
    await settle(200);
    expect(rj.of('message:new')).toHaveLength(1);
    expect(ro.events).toEqual([]);
  });

  it('shares presence: online on A is online for a profile read on B', async () => {
    const [x, y] = [await registerUser(a.http), await registerUser(b.http)];
    await a.http
      .post('/api/v1/chat/message')
      .set(bearer(x.token))
      .send({ type: 'text', content: 'hi', receiver_id: y.user_id })
      .expect(200);
    const yOnB = await on(b, y);
    const ry = new Recorder(yOnB, ['presence']);
    const xOnA = await on(a, x);
    await ry.waitFor((r) => r.of('presence').length === 1);
    expect(ry.of('presence')[0]).toMatchObject({ user_id: x.user_id, online: true });
    const profile = await b.http.get(`/api/v1/user/${x.user_id}`).set(bearer(y.token)).expect(200);
    expect(profile.body.data.online).toBe(true);
    // A second device on B, then the A device goes: still online everywhere.
    const xOnB = await on(b, x);
    await settle(300); // the second device is fully registered before the first goes
    xOnA.disconnect();
    await settle(300);
    expect(
      (await a.http.get(`/api/v1/user/${x.user_id}`).set(bearer(y.token)).expect(200)).body.data
        .online,
    ).toBe(true);
    expect(ry.of('presence')).toHaveLength(1);
    xOnB.disconnect();
    await ry.waitFor((r) => r.of('presence').length === 2);
    expect(ry.of('presence')[1]).toMatchObject({
      user_id: x.user_id,
      online: false,
      last_seen_at: expect.any(String),
    });
  });

  it('refuses on B a token logged out on A, and closes its socket on B', async () => {
    const x = await registerUser(a.http);
    const xOnB = await on(b, x);
    await settle(300); // the second device is fully registered before the first goes
    const gone = waitForEvent(xOnB, 'disconnect');
    await a.http.post('/api/v1/logout').set(bearer(x.token)).expect(200);
    await b.http.get('/api/v1/user/profile').set(bearer(x.token)).expect(401);
    expect(await gone).toBe('io server disconnect');
  });

  it('refuses on B the older tokens of a password changed on A, though B had just accepted them', async () => {
    const x = await registerUser(a.http);
    await b.http.get('/api/v1/user/profile').set(bearer(x.token)).expect(200);
    await a.http
      .put('/api/v1/user/password')
      .set(bearer(x.token))
      .send({ old_password: x.password, new_password: 'another-password-1' })
      .expect(200);
    const res = await b.http.get('/api/v1/user/profile').set(bearer(x.token)).expect(401);
    expect(res.body.error).toBe('token revoked');
  });

  it('refuses on A a group member removed on B, though A had just served them', async () => {
    const [owner, m] = [await registerUser(a.http), await registerUser(a.http)];
    const g = (
      await a.http
        .post('/api/v1/group')
        .set(bearer(owner.token))
        .send({ name: 'cache', description: '' })
        .expect(200)
    ).body.data.group_id;
    await a.http
      .post(`/api/v1/group/${g}/members`)
      .set(bearer(owner.token))
      .send({ user_ids: [m.user_id] })
      .expect(200);
    const body = { type: 'text', content: 'member', group_id: g };
    await a.http.post('/api/v1/chat/message').set(bearer(m.token)).send(body).expect(200);
    await b.http
      .delete(`/api/v1/group/${g}/members/${m.user_id}`)
      .set(bearer(owner.token))
      .expect(200);
    await a.http.post('/api/v1/chat/message').set(bearer(m.token)).send(body).expect(403);
    await a.http
      .get('/api/v1/chat/messages')
      .query({ group_id: g })
      .set(bearer(m.token))
      .expect(403);
    // And a group deleted on B is gone on A too, for a member A has just served.
    const ownerBody = { ...body, content: 'owner' };
    await a.http.post('/api/v1/chat/message').set(bearer(owner.token)).send(ownerBody).expect(200);
    await b.http.delete(`/api/v1/group/${g}`).set(bearer(owner.token)).expect(200);
    await a.http.post('/api/v1/chat/message').set(bearer(owner.token)).send(ownerBody).expect(404);
  });

  it('shares the message budget across instances', async () => {
    const [x, y] = [await registerUser(a.http), await registerUser(b.http)];
    const body = { type: 'text', content: 'n', receiver_id: y.user_id };
    const statuses = [];
    for (let i = 0; i < 32; i += 1) {
      const app = i % 2 ? b : a;
      statuses.push(
        (await app.http.post('/api/v1/chat/message').set(bearer(x.token)).send(body)).status,
      );
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual([429, 429]);
  });

  it('lets a client that was offline catch up on messages sent to either instance, in order, exactly once', async () => {
    const [x, y, z] = [
      await registerUser(a.http),
      await registerUser(b.http),
      await registerUser(a.http),
    ];
    const g = (
      await a.http
        .post('/api/v1/group')
        .set(bearer(z.token))
        .send({ name: 'sync', description: '' })
        .expect(200)
    ).body.data.group_id;
    await a.http
      .post(`/api/v1/group/${g}/members`)
      .set(bearer(z.token))
      .send({ user_ids: [y.user_id] })
      .expect(200);
    const first = (
      await a.http
        .post('/api/v1/chat/message')
        .set(bearer(x.token))
        .send({ type: 'text', content: 'seen', receiver_id: y.user_id })
        .expect(200)
    ).body.data;
    // y is offline now; messages arrive through both instances and two conversations.
    const sent: string[] = [];
    for (let i = 0; i < 9; i += 1) {
      const app = i % 2 ? a : b;
      const res =
        i % 3 === 0
          ? await app.http
              .post('/api/v1/chat/message')
              .set(bearer(z.token))
              .send({ type: 'text', content: `g${i}`, group_id: g })
          : await app.http
              .post('/api/v1/chat/message')
              .set(bearer(x.token))
              .send({ type: 'text', content: `p${i}`, receiver_id: y.user_id });
      sent.push(res.body.data.message_id);
    }
    const got: string[] = [];
    let after = first.message_id;
    for (let page = 0; page < 10; page += 1) {
      const app = page % 2 ? a : b;
      const res = await app.http
        .get('/api/v1/chat/sync')
        .query({ after, limit: 4 })
        .set(bearer(y.token))
        .expect(200);
      got.push(...res.body.data.messages.map((m: { message_id: string }) => m.message_id));
      after = res.body.data.watermark;
      if (!res.body.data.has_more) break;
    }
    expect(got).toEqual(sent);
    const empty = await a.http
      .get('/api/v1/chat/sync')
      .query({ after })
      .set(bearer(y.token))
      .expect(200);
    expect(empty.body.data).toEqual({ messages: [], has_more: false, watermark: after });
  });

  it('degrades to single-instance delivery while Redis is down and recovers when it returns', async () => {
    const [x, y, z] = [
      await registerUser(a.http),
      await registerUser(a.http),
      await registerUser(b.http),
    ];
    const [yOnA, zOnB] = [await on(a, y), await on(b, z)];
    const [ry, rz] = [new Recorder(yOnA, ['message:new']), new Recorder(zOnB, ['message:new'])];
    const w = await registerUser(a.http);
    await b.http.get('/api/v1/user/profile').set(bearer(w.token)).expect(200); // checked on B
    await redisProxy.cut();
    await settle(200);
    // B cannot hear A's invalidations now, so it does not trust what it checked before.
    await a.http.post('/api/v1/logout').set(bearer(w.token)).expect(200);
    await b.http.get('/api/v1/user/profile').set(bearer(w.token)).expect(401);
    // Same instance: still delivered; the API still answers (limits count per instance meanwhile).
    await a.http
      .post('/api/v1/chat/message')
      .set(bearer(x.token))
      .send({ type: 'text', content: 'local', receiver_id: y.user_id })
      .expect(200);
    await ry.waitFor((r) => r.of('message:new').length === 1);
    const ready = await a.http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toBe('redis unavailable');
    await a.http.get(`/api/v1/user/${z.user_id}`).set(bearer(x.token)).expect(200);

    await redisProxy.restore();
    let back = false;
    for (let i = 0; i < 60 && !back; i += 1) {
      back =
        (await a.http.get('/health/ready')).status === 200 &&
        (await b.http.get('/health/ready')).status === 200;
      if (!back) await settle(250);
    }
    expect(back).toBe(true);
    await settle(500); // the subscriber renews its subscriptions after reconnecting
    await a.http
      .post('/api/v1/chat/message')
      .set(bearer(x.token))
      .send({ type: 'text', content: 'across again', receiver_id: z.user_id })
      .expect(200);
    await rz.waitFor((r) => r.of('message:new').length === 1, 5000);
  });
});
