import { createTestApp, freshDatabase, onMysql, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';
import { ClientSocket, connect, emitAck } from './support/sockets';
import { TcpProxy } from './support/tcp-proxy';

/**
 * The database goes away and comes back (a TCP proxy in front of MariaDB that the test cuts):
 * requests answer 503 in bounded time, readiness turns red, sockets stay, and everything
 * recovers without a restart. MySQL/MariaDB only (`npm run test:e2e:mysql`).
 */
const describeMysql = onMysql ? describe : describe.skip;

describeMysql('Database failure (e2e)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let user: TestUser;
  let peer: TestUser;
  let socket: ClientSocket;
  let db: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    const server = new URL(process.env.E2E_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    proxy = await new TcpProxy(server.hostname, Number(server.port || 3306)).start();
    // A fresh database, reached through the proxy.
    db = await freshDatabase();
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    t = await createTestApp({ databaseUrl: url.toString() });
    user = await registerUser(t.http);
    peer = await registerUser(t.http);
    socket = await connect(t.url, user.token);
  });
  afterAll(async () => {
    socket?.disconnect();
    await proxy.restore().catch(() => undefined);
    await t.close();
    await proxy.stop();
    await db.drop();
  });

  it('answers 503 quickly while the database is down, keeps sockets, and recovers by itself', async () => {
    await proxy.cut();

    const started = Date.now();
    const res = await t.http.get('/api/v1/user/profile').set(bearer(user.token));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ code: 503, message: '服务暂不可用', error: expect.any(String) });
    expect(Date.now() - started).toBeLessThan(10_000);

    const send = await t.http
      .post('/api/v1/chat/message')
      .set(bearer(user.token))
      .send({ type: 'text', content: 'while down', receiver_id: peer.user_id });
    expect(send.status).toBe(503);
    expect(
      await emitAck(socket, 'message:send', {
        type: 'text',
        content: 'while down',
        receiver_id: peer.user_id,
      }),
    ).toMatchObject({
      code: 503,
    });

    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({
      code: 503,
      message: '服务暂不可用',
      error: 'database unavailable',
    });
    await t.http.get('/health').expect(200);
    expect(socket.connected).toBe(true);

    await proxy.restore();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i += 1) {
      recovered = (await t.http.get('/health/ready')).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(true);
    await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(200);
    expect(
      await emitAck(socket, 'message:send', {
        type: 'text',
        content: 'back',
        receiver_id: peer.user_id,
      }),
    ).toMatchObject({
      code: 200,
    });
    expect(socket.connected).toBe(true);
  });
});
