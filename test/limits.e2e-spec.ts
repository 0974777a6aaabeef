import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, uniqueName } from './support/users';
import { connect, emitAck } from './support/sockets';

describe('Abuse limits and HTTP hardening (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_REGISTER: '6/60', RATE_LIMIT_LOGIN: '3/60', RATE_LIMIT_MESSAGES: '4/60' },
    });
  });
  afterAll(() => t.close());

  it('limits registrations per IP with 429, Retry-After and the envelope', async () => {
    const statuses: number[] = [];
    let last: { status: number; body: unknown; headers: Record<string, string> } = {
      status: 0,
      body: null,
      headers: {},
    };
    for (let i = 0; i < 7; i += 1) {
      last = await t.http.post('/api/v1/register').send({
        username: uniqueName(),
        email: `${uniqueName()}@example.com`,
        password: 'password-123',
      });
      statuses.push(last.status);
    }
    // The limits suite has registered nobody before: six pass, the seventh is refused.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(last.body).toEqual({
      code: 429,
      message: '请求过于频繁',
      error: expect.stringMatching(/^too many registrations, retry in \d+ s$/),
    });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('counts parallel password guesses too', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.http
          .post('/api/v1/login')
          .send({ email: 'parallel@example.com', password: 'guess-guess' }),
      ),
    );
    const codes = statuses.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
  });

  it('blocks an email+IP after repeated failed logins, even with the right password; other emails are unaffected', async () => {
    const res = await t.http
      .post('/api/v1/login')
      .send({ email: 'nobody-yet@example.com', password: 'x' });
    expect(res.status).toBe(401);
    // Use an existing account: registered directly in the database budget-free via the first test's users.
    const users = await t.dataSource.query('SELECT email FROM users LIMIT 2');
    const [victim, bystander] = users.map((u: { email: string }) => u.email);
    const attempts = [];
    for (let i = 0; i < 4; i += 1) {
      attempts.push(
        (await t.http.post('/api/v1/login').send({ email: victim, password: 'wrong-password' }))
          .status,
      );
    }
    expect(attempts).toEqual([401, 401, 401, 429]);
    const right = await t.http
      .post('/api/v1/login')
      .send({ email: victim, password: 'password-123' });
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({
      code: 429,
      message: '请求过于频繁',
      error: expect.stringMatching(/login attempts/),
    });
    expect(right.headers['retry-after']).toBeDefined();
    await t.http
      .post('/api/v1/login')
      .send({ email: bystander, password: 'password-123' })
      .expect(200);
  });

  it('counts messages per user across HTTP and the socket, answering 429 on both', async () => {
    const users = await t.dataSource.query('SELECT id, email FROM users ORDER BY email LIMIT 4');
    const login = async (email: string) =>
      (await t.http.post('/api/v1/login').send({ email, password: 'password-123' }).expect(200))
        .body.data.token as string;
    const [sender, receiver] = [users[2], users[3]];
    const token = await login(sender.email);
    const socket = await connect(t.url, token);
    try {
      const body = { type: 'text', content: 'hi', receiver_id: receiver.id };
      await t.http.post('/api/v1/chat/message').set(bearer(token)).send(body).expect(200);
      expect(await emitAck(socket, 'message:send', body)).toMatchObject({ code: 200 });
      await t.http.post('/api/v1/chat/message').set(bearer(token)).send(body).expect(200);
      expect(await emitAck(socket, 'message:send', body)).toMatchObject({ code: 200 });
      const http = await t.http
        .post('/api/v1/chat/message')
        .set(bearer(token))
        .send(body)
        .expect(429);
      expect(http.headers['retry-after']).toBeDefined();
      expect(await emitAck(socket, 'message:send', body)).toEqual({
        code: 429,
        message: '请求过于频繁',
        error: expect.stringMatching(/^too many messages, retry in \d+ s$/),
      });
      expect(socket.connected).toBe(true);
      const stored = await t.dataSource.query(
        'SELECT COUNT(*) AS n FROM messages WHERE sender_id = ?',
        [sender.id],
      );
      expect(Number(stored[0].n)).toBe(4);
    } finally {
      socket.disconnect();
    }
  });

  it.each([
    ['loopback (the default; the test client is on loopback)', 'loopback', true],
    ['a hop count of 1', '1', true],
    ['false', 'false', false],
  ])(
    'believes X-Forwarded-For for the client IP only from trusted proxies: TRUST_PROXY=%s',
    async (_name, trustProxy, believed) => {
      const app = await createTestApp({
        env: { TRUST_PROXY: trustProxy, RATE_LIMIT_REGISTER: '2/60' },
      });
      const register = (ip: string) =>
        app.http
          .post('/api/v1/register')
          .set('X-Forwarded-For', ip)
          .send({
            username: uniqueName(),
            email: `${uniqueName()}@example.com`,
            password: 'password-123',
          });
      try {
        for (let i = 0; i < 2; i += 1) expect((await register('203.0.113.1')).status).toBe(200);
        expect((await register('203.0.113.1')).status).toBe(429);
        // Another client behind the proxy has its own budget, unless the header is ignored.
        expect((await register('203.0.113.2')).status).toBe(believed ? 200 : 429);
      } finally {
        await app.close();
      }
    },
  );

  it('sends security headers and no X-Powered-By', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('serves the docs UI under the security headers', async () => {
    await t.http.get('/docs').redirects(1).expect(200);
  });

  it('keeps the defaults generous enough for a normal client', async () => {
    const limits = ['RATE_LIMIT_REGISTER', 'RATE_LIMIT_LOGIN', 'RATE_LIMIT_MESSAGES'];
    const saved = limits.map((k) => process.env[k]);
    for (const k of limits) delete process.env[k];
    const defaults = await createTestApp();
    limits.forEach((k, i) => (process.env[k] = saved[i]));
    try {
      const a = await registerUser(defaults.http);
      const b = await registerUser(defaults.http);
      for (let i = 0; i < 50; i += 1) {
        await defaults.http
          .post('/api/v1/chat/message')
          .set(bearer(a.token))
          .send({ type: 'text', content: `m${i}`, receiver_id: b.user_id })
          .expect(200);
      }
    } finally {
      await defaults.close();
    }
  });
});
