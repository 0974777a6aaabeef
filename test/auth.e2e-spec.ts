import { createHmac } from 'node:crypto';
import { AuthService } from '../src/auth/auth.service';
import { User } from '../src/users/user.entity';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';
import { bearer, registerUser, uniqueName } from './support/users';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOGIN_FAILED = { code: 401, message: '登录失败', error: '邮箱或密码错误' };

function b64(obj: object): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

function signHs256(payload: object, secret = TEST_JWT_SECRET): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

describe('Auth (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('POST /api/v1/register', () => {
    it('creates a user and answers 200 with the envelope and exact fields', async () => {
      const username = uniqueName('张三');
      const res = await t.http
        .post('/api/v1/register')
        .send({
          username,
          email: `  ${username.toUpperCase()}@Example.COM `,
          password: 'password-123',
          phone: '+8613800138000',
        })
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          user_id: expect.stringMatching(UUID),
          username,
          email: `${username.toLowerCase()}@example.com`,
          phone: '+8613800138000',
          created_at: expect.stringMatching(ISO),
        },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/password|\$2[aby]\$/);
    });

    it('counts username characters, not UTF-16 units: 32 with rare ideographs is allowed', async () => {
      const username = `${'𠀀'.repeat(23)}${uniqueName('').slice(0, 9)}`; // 32 characters, 55 units
      const res = await t.http
        .post('/api/v1/register')
        .send({ username, email: `${uniqueName()}@example.com`, password: 'password-123' })
        .expect(200);
      expect(res.body.data.username).toBe(username);
    });

    it('answers phone: null when no phone is given', async () => {
      const res = await t.http
        .post('/api/v1/register')
        .send({
          username: uniqueName(),
          email: `${uniqueName()}@example.com`,
          password: 'password-123',
        })
        .expect(200);
      expect(res.body.data.phone).toBeNull();
    });

    it('stores the password only as a bcrypt hash', async () => {
      const user = await registerUser(t.http);
      const row = await t.dataSource
        .getRepository(User)
        .createQueryBuilder('u')
        .addSelect('u.passwordHash')
        .where('u.id = :id', { id: user.user_id })
        .getOneOrFail();
      expect(row.passwordHash).toMatch(/^\$2[aby]\$\d\d\$/);
      expect(row.passwordHash).not.toContain(user.password);
    });

    it('rejects a duplicate email (any case) with 409 and overwrites nothing', async () => {
      const user = await registerUser(t.http);
      const res = await t.http
        .post('/api/v1/register')
        .send({
          username: uniqueName(),
          email: user.email.toUpperCase(),
          password: 'other-password',
        })
        .expect(409);
      expect(res.body).toEqual({
        code: 409,
        message: '资源冲突',
        error: 'email already registered',
      });
      await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: 'other-password' })
        .expect(401);
    });

    it('rejects a duplicate username (any case) with 409', async () => {
      const user = await registerUser(t.http, { username: uniqueName('Alice') });
      const res = await t.http
        .post('/api/v1/register')
        .send({
          username: user.username.toUpperCase(),
          email: `${uniqueName()}@example.com`,
          password: 'password-123',
        })
        .expect(409);
      expect(res.body).toEqual({ code: 409, message: '资源冲突', error: 'username already taken' });
    });

    it('makes one user of two simultaneous identical registrations', async () => {
      const body = {
        username: uniqueName(),
        email: `${uniqueName()}@example.com`,
        password: 'password-123',
      };
      const results = await Promise.all([
        t.http.post('/api/v1/register').send(body),
        t.http.post('/api/v1/register').send(body),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await t.dataSource.getRepository(User).countBy({ email: body.email })).toBe(1);
    });

    it.each([
      ['missing username', { email: 'a@example.com', password: 'password-123' }, /username/],
      [
        'short username',
        { username: 'a', email: 'a@example.com', password: 'password-123' },
        /username/,
      ],
      [
        'long username',
        { username: 'a'.repeat(33), email: 'a@example.com', password: 'password-123' },
        /username/,
      ],
      [
        'one-character username of two UTF-16 units',
        { username: '𠀀', email: 'a@example.com', password: 'password-123' },
        /username/,
      ],
      [
        'username with spaces',
        { username: 'a b', email: 'a@example.com', password: 'password-123' },
        /username/,
      ],
      [
        'username not a string',
        { username: 12345, email: 'a@example.com', password: 'password-123' },
        /username/,
      ],
      ['bad email', { username: 'abc', email: 'not-an-email', password: 'password-123' }, /email/],
      [
        'short password',
        { username: 'abc', email: 'a@example.com', password: 'short' },
        /password/,
      ],
      [
        'password over 72 bytes',
        { username: 'abc', email: 'a@example.com', password: '密'.repeat(25) },
        /password/,
      ],
      [
        'bad phone',
        { username: 'abc', email: 'a@example.com', password: 'password-123', phone: '12' },
        /phone/,
      ],
      [
        'phone without +',
        {
          username: 'abc',
          email: 'a@example.com',
          password: 'password-123',
          phone: '8613800138000',
        },
        /phone/,
      ],
      [
        'unknown field',
        { username: 'abc', email: 'a@example.com', password: 'password-123', role: 'admin' },
        /role/,
      ],
    ])('rejects %s with 400 and creates nothing', async (_name, body, reason) => {
      const before = await t.dataSource.getRepository(User).count();
      const res = await t.http.post('/api/v1/register').send(body).expect(400);
      expect(res.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: expect.stringMatching(reason),
      });
      expect(await t.dataSource.getRepository(User).count()).toBe(before);
    });
  });

  describe('POST /api/v1/login', () => {
    it('returns a token, expires_in and the user', async () => {
      const user = await registerUser(t.http);
      const res = await t.http
        .post('/api/v1/login')
        .send({ email: ` ${user.email.toUpperCase()} `, password: user.password })
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          token: expect.any(String),
          expires_in: 86400,
          user: { user_id: user.user_id, username: user.username, email: user.email },
        },
      });
      const [header, payload] = res.body.data.token
        .split('.')
        .slice(0, 2)
        .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
      expect(header.alg).toBe('HS256');
      expect(payload).toEqual(
        expect.objectContaining({ sub: user.user_id, jti: expect.stringMatching(UUID) }),
      );
      expect(payload.exp - payload.iat).toBe(86400);
    });

    it('answers exactly the same 401 for a wrong password and an unknown email', async () => {
      const user = await registerUser(t.http);
      const wrong = await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: 'wrong-password' })
        .expect(401);
      const unknown = await t.http
        .post('/api/v1/login')
        .send({ email: `${uniqueName()}@example.com`, password: 'wrong-password' })
        .expect(401);
      expect(wrong.body).toEqual(LOGIN_FAILED);
      expect(unknown.body).toEqual(LOGIN_FAILED);
    });

    it('rejects a body without password with 400', async () => {
      const res = await t.http.post('/api/v1/login').send({ email: 'a@example.com' }).expect(400);
      expect(res.body).toMatchObject({ code: 400, message: '请求参数错误' });
    });
  });

  describe('tokens', () => {
    it.each([
      ['no header', undefined, 'missing bearer token'],
      ['a malformed token', 'Bearer not.a.token', 'invalid token'],
      ['a non-bearer scheme', 'Basic abc', 'missing bearer token'],
    ])('refuses %s with 401', async (_name, header, reason) => {
      const req = t.http.get('/api/v1/user/profile');
      if (header) req.set('Authorization', header);
      const res = await req.expect(401);
      expect(res.body).toEqual({ code: 401, message: '未授权或 token 无效', error: reason });
    });

    it('takes a token it checked moments ago without checking it again', async () => {
      const user = await registerUser(t.http);
      await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(200);
      const validate = jest.spyOn(t.app.get(AuthService), 'validatePayload');
      try {
        await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(200);
        expect(validate).not.toHaveBeenCalled();
      } finally {
        validate.mockRestore();
      }
    });

    it('refuses a token signed with another secret, alg:none, and an expired token', async () => {
      const user = await registerUser(t.http);
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        sub: user.user_id,
        jti: '00000000-0000-4000-8000-000000000000',
        ver: 0,
        iat: now,
        exp: now + 600,
      };
      const forged = signHs256(claims, 'another-secret-another-secret-another-secret');
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      const expired = signHs256({ ...claims, iat: now - 7200, exp: now - 3600 });
      for (const token of [forged, none]) {
        const res = await t.http.get('/api/v1/user/profile').set(bearer(token)).expect(401);
        expect(res.body).toEqual({
          code: 401,
          message: '未授权或 token 无效',
          error: 'invalid token',
        });
      }
      const res = await t.http.get('/api/v1/user/profile').set(bearer(expired)).expect(401);
      expect(res.body.error).toBe('token expired');
      // The same claims correctly signed are accepted: the checks above are about the signature.
      await t.http
        .get('/api/v1/user/profile')
        .set(bearer(signHs256(claims)))
        .expect(200);
    });

    it('refuses the token of a user that no longer exists', async () => {
      const user = await registerUser(t.http);
      await t.dataSource.getRepository(User).delete({ id: user.user_id });
      const res = await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(401);
      expect(res.body).toEqual({
        code: 401,
        message: '未授权或 token 无效',
        error: 'user no longer exists',
      });
    });
  });

  describe('POST /api/v1/logout', () => {
    it('revokes the presented token only', async () => {
      const user = await registerUser(t.http);
      const second = await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      const res = await t.http.post('/api/v1/logout').set(bearer(user.token)).expect(200);
      expect(res.body).toEqual({ code: 200, message: 'success', data: null });
      const after = await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(401);
      expect(after.body).toEqual({
        code: 401,
        message: '未授权或 token 无效',
        error: 'token revoked',
      });
      await t.http.post('/api/v1/logout').set(bearer(user.token)).expect(401);
      await t.http.get('/api/v1/user/profile').set(bearer(second.body.data.token)).expect(200);
    });

    it('needs a token', async () => {
      await t.http.post('/api/v1/logout').expect(401);
    });
  });

  describe('PUT /api/v1/user/password', () => {
    it('changes the password, revokes older tokens and returns a working new one', async () => {
      const user = await registerUser(t.http);
      const other = await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      // Both tokens have been accepted (and so checked) before the change.
      await t.http.get('/api/v1/user/profile').set(bearer(other.body.data.token)).expect(200);
      const res = await t.http
        .put('/api/v1/user/password')
        .set(bearer(user.token))
        .send({ old_password: user.password, new_password: 'brand-new-password' })
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: { token: expect.any(String), expires_in: 86400 },
      });
      for (const old of [user.token, other.body.data.token]) {
        const r = await t.http.get('/api/v1/user/profile').set(bearer(old)).expect(401);
        expect(r.body.error).toBe('token revoked');
      }
      await t.http.get('/api/v1/user/profile').set(bearer(res.body.data.token)).expect(200);
      await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: user.password })
        .expect(401);
      await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: 'brand-new-password' })
        .expect(200);
    });

    it('refuses a wrong old password with 400 and changes nothing', async () => {
      const user = await registerUser(t.http);
      const res = await t.http
        .put('/api/v1/user/password')
        .set(bearer(user.token))
        .send({ old_password: 'not-my-password', new_password: 'brand-new-password' })
        .expect(400);
      expect(res.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: 'old_password is incorrect',
      });
      await t.http.get('/api/v1/user/profile').set(bearer(user.token)).expect(200);
      await t.http
        .post('/api/v1/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
    });

    it('validates the new password', async () => {
      const user = await registerUser(t.http);
      const res = await t.http
        .put('/api/v1/user/password')
        .set(bearer(user.token))
        .send({ old_password: user.password, new_password: 'short' })
        .expect(400);
      expect(res.body.error).toMatch(/new_password/);
    });
  });
});
