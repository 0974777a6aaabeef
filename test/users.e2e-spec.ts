import { createTestApp, onMysql, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser, uniqueName } from './support/users';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Users (e2e)', () => {
  let t: TestApp;
  let me: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    me = await registerUser(t.http, { phone: '+8613800138000' });
  });
  afterAll(() => t.close());

  describe('GET /api/v1/user/profile', () => {
    it('returns my profile with every field, unset ones null', async () => {
      const res = await t.http.get('/api/v1/user/profile').set(bearer(me.token)).expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          user_id: me.user_id,
          username: me.username,
          email: me.email,
          phone: '+8613800138000',
          avatar: null,
          created_at: expect.stringMatching(ISO),
          updated_at: expect.stringMatching(ISO),
        },
      });
    });
  });

  describe('PUT /api/v1/user/profile', () => {
    it('updates username, avatar and phone and returns the seed fields', async () => {
      const before = await t.http.get('/api/v1/user/profile').set(bearer(me.token)).expect(200);
      const username = uniqueName('王五');
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ username, avatar: 'https://cdn.example.com/a/😀.png', phone: '+447700900123' })
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          user_id: me.user_id,
          username,
          avatar: 'https://cdn.example.com/a/😀.png',
          phone: '+447700900123',
          updated_at: expect.stringMatching(ISO),
        },
      });
      expect(Date.parse(res.body.data.updated_at)).toBeGreaterThanOrEqual(
        Date.parse(before.body.data.updated_at),
      );
      const after = await t.http.get('/api/v1/user/profile').set(bearer(me.token)).expect(200);
      expect(after.body.data).toMatchObject({
        username,
        avatar: 'https://cdn.example.com/a/😀.png',
        phone: '+447700900123',
        email: me.email,
      });
    });

    it('accepts an upload path as avatar and clears avatar and phone with null', async () => {
      await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ avatar: '/api/v1/files/0b0e6a52.png' })
        .expect(200);
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ avatar: null, phone: null })
        .expect(200);
      expect(res.body.data).toMatchObject({ avatar: null, phone: null, username: me.username });
    });

    it('changes only what is sent', async () => {
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ phone: '+8613900139000' })
        .expect(200);
      expect(res.body.data).toMatchObject({
        username: me.username,
        avatar: null,
        phone: '+8613900139000',
      });
    });

    it.each([
      ['a non-URL avatar', { avatar: 'javascript:alert(1)' }, /avatar/],
      ['a relative avatar outside uploads', { avatar: '../../etc/passwd' }, /avatar/],
      ['a null username', { username: null }, /username/],
      ['a one-letter username', { username: 'x' }, /username/],
      ['a bad phone', { phone: 'call me' }, /phone/],
      ['an unknown field', { email: 'new@example.com' }, /email/],
    ])('refuses %s with 400 and changes nothing', async (_name, body, reason) => {
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send(body)
        .expect(400);
      expect(res.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: expect.stringMatching(reason),
      });
      const after = await t.http.get('/api/v1/user/profile').set(bearer(me.token)).expect(200);
      expect(after.body.data).toMatchObject({
        username: me.username,
        email: me.email,
        avatar: null,
        phone: '+8613800138000',
      });
    });

    it("refuses another user's username (any case) with 409", async () => {
      const other = await registerUser(t.http, { username: uniqueName('Bob') });
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ username: other.username.toUpperCase() })
        .expect(409);
      expect(res.body).toEqual({ code: 409, message: '资源冲突', error: 'username already taken' });
    });

    it('lets me change the case of my own username', async () => {
      const res = await t.http
        .put('/api/v1/user/profile')
        .set(bearer(me.token))
        .send({ username: me.username.toUpperCase() })
        .expect(200);
      expect(res.body.data.username).toBe(me.username.toUpperCase());
    });

    it('needs a token', async () => {
      await t.http.put('/api/v1/user/profile').send({ phone: '+8613900139000' }).expect(401);
    });
  });

  describe('GET /api/v1/user/:user_id', () => {
    it('returns the public profile without email or phone', async () => {
      const other = await registerUser(t.http);
      const res = await t.http
        .get(`/api/v1/user/${other.user_id}`)
        .set(bearer(me.token))
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          user_id: other.user_id,
          username: other.username,
          avatar: null,
          online: false,
          last_seen_at: null,
        },
      });
    });

    it('answers 404 for an unknown user and 400 for a malformed id', async () => {
      const missing = await t.http
        .get('/api/v1/user/7d8b1a52-3f0c-4a53-9d6e-5b0f6f8f1a2b')
        .set(bearer(me.token))
        .expect(404);
      expect(missing.body).toEqual({ code: 404, message: '资源不存在', error: 'user not found' });
      const bad = await t.http.get("/api/v1/user/1' OR '1'='1").set(bearer(me.token)).expect(400);
      expect(bad.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: 'user_id must be a UUID',
      });
    });
  });

  describe('GET /api/v1/user/search', () => {
    it('finds users by username prefix, case-insensitively, with public profiles only', async () => {
      const stem = uniqueName('Carol');
      const a = await registerUser(t.http, { username: `${stem}_a` });
      const b = await registerUser(t.http, { username: `${stem}_b` });
      const res = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: stem.toUpperCase() })
        .set(bearer(me.token))
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          users: [
            {
              user_id: a.user_id,
              username: a.username,
              avatar: null,
              online: false,
              last_seen_at: null,
            },
            {
              user_id: b.user_id,
              username: b.username,
              avatar: null,
              online: false,
              last_seen_at: null,
            },
          ],
        },
      });
    });

    it('finds a user by exact email (any case) and never by partial email', async () => {
      const other = await registerUser(t.http);
      const res = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: other.email.toUpperCase() })
        .set(bearer(me.token))
        .expect(200);
      expect(res.body.data.users.map((u: { user_id: string }) => u.user_id)).toEqual([
        other.user_id,
      ]);
      expect(JSON.stringify(res.body)).not.toContain(other.email);
      const partial = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: other.email.slice(0, -4) })
        .set(bearer(me.token))
        .expect(200);
      expect(partial.body.data.users).toEqual([]);
    });

    it('treats LIKE wildcards literally and honours limit', async () => {
      const stem = uniqueName('dave');
      for (let i = 0; i < 3; i += 1) await registerUser(t.http, { username: `${stem}${i}` });
      const wildcard = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: '%' })
        .set(bearer(me.token))
        .expect(200);
      expect(wildcard.body.data.users).toEqual([]);
      const underscore = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: '_' })
        .set(bearer(me.token))
        .expect(200);
      expect(underscore.body.data.users).toEqual([]);
      const limited = await t.http
        .get('/api/v1/user/search')
        .query({ keyword: stem, limit: 2 })
        .set(bearer(me.token))
        .expect(200);
      expect(limited.body.data.users).toHaveLength(2);
    });

    it('ignores unknown query parameters (cache-busters)', async () => {
      await t.http
        .get('/api/v1/user/search')
        .query({ keyword: 'a', _: '1732460000' })
        .set(bearer(me.token))
        .expect(200);
    });

    it.each([
      ['no keyword', {}],
      ['an empty keyword', { keyword: '' }],
      ['limit 0', { keyword: 'a', limit: 0 }],
      ['limit 51', { keyword: 'a', limit: 51 }],
      ['a non-numeric limit', { keyword: 'a', limit: 'ten' }],
    ])('refuses %s with 400', async (_name, query) => {
      const res = await t.http
        .get('/api/v1/user/search')
        .query(query)
        .set(bearer(me.token))
        .expect(400);
      expect(res.body).toMatchObject({ code: 400, message: '请求参数错误' });
    });
  });

  (onMysql ? it : it.skip)('keeps utf8mb4 text intact on MySQL/MariaDB columns', async () => {
    const rows: { CHARACTER_SET_NAME: string | null }[] = await t.dataSource.query(
      `SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND DATA_TYPE = 'varchar'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.CHARACTER_SET_NAME))).toEqual(new Set(['utf8mb4']));
  });
});
