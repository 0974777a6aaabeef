import { Controller, Get } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { Public } from '../src/common/decorators/public.decorator';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser } from './support/users';

@Public()
@Controller('test-failures')
class FailureController {
  @Get('crash')
  crash(): never {
    throw new Error('boom at /srv/app/secret.ts:42');
  }

  @Get('sql')
  sql(): never {
    throw new QueryFailedError(
      'SELECT password_hash FROM users',
      [],
      new Error("ER_PARSE_ERROR near 'users'"),
    );
  }
}

describe('HTTP conventions (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT: '16kb' }, controllers: [FailureController] });
  });
  afterAll(() => t.close());

  it('answers an unknown route with the 404 envelope', async () => {
    const res = await t.http.get('/api/v1/no-such-route').expect(404);
    expect(res.body).toEqual({ code: 404, message: '资源不存在', error: expect.any(String) });
    await t.http.post('/nowhere').send({}).expect(404);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t.http
      .post('/api/v1/login')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@example.com", ')
      .expect(400);
    expect(res.body).toEqual({ code: 400, message: '请求参数错误', error: expect.any(String) });
  });

  it.each([
    ['__proto__', '{"email":"a@example.com","password":"password-123","__proto__":{"admin":true}}'],
    [
      'constructor.prototype',
      '{"email":"a@example.com","password":"password-123","constructor":{"prototype":{"admin":true}}}',
    ],
  ])('refuses a body with %s (prototype poisoning) with 400 saying so', async (_name, text) => {
    const res = await t.http
      .post('/api/v1/login')
      .set('Content-Type', 'application/json')
      .send(text)
      .expect(400);
    expect(res.body).toEqual({
      code: 400,
      message: '请求参数错误',
      error: 'body must not contain "__proto__" or "constructor.prototype"',
    });
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it('answers a body over the configured limit with 413', async () => {
    const res = await t.http
      .post('/api/v1/register')
      .send({ username: 'big', email: 'big@example.com', password: 'x'.repeat(20 * 1024) })
      .expect(413);
    expect(res.body).toEqual({ code: 413, message: '请求体过大', error: 'request body too large' });
  });

  it('answers an unknown body field with 400 naming it', async () => {
    const res = await t.http
      .post('/api/v1/login')
      .send({ email: 'a@example.com', password: 'password-123', admin: true })
      .expect(400);
    expect(res.body).toEqual({
      code: 400,
      message: '请求参数错误',
      error: 'property admin should not exist',
    });
  });

  it.each([
    ['/api/v1/login', { email: 'a@example.com' }, 'password must be a string'],
    ['/api/v1/login', { email: 'a@example.com', password: null }, 'password must be a string'],
    [
      '/api/v1/register',
      { username: 123, email: 'a@example.com', password: 'password-123' },
      'username must be a string',
    ],
  ])('names the most basic problem of a field first (%s %j)', async (path, body, error) => {
    const res = await t.http.post(path).send(body).expect(400);
    expect(res.body).toEqual({ code: 400, message: '请求参数错误', error });
  });

  it('answers a JSON array or scalar body with 400', async () => {
    await t.http
      .post('/api/v1/login')
      .set('Content-Type', 'application/json')
      .send('[1,2]')
      .expect(400);
    await t.http
      .post('/api/v1/login')
      .set('Content-Type', 'application/json')
      .send('"x"')
      .expect(400);
  });

  it('takes an empty JSON body as {} (a bodiless POST with the JSON content type)', async () => {
    const user = await registerUser(t.http);
    const res = await t.http
      .post('/api/v1/logout')
      .set(bearer(user.token))
      .set('Content-Type', 'application/json')
      .expect(200);
    expect(res.body).toEqual({ code: 200, message: 'success', data: null });
  });

  it('answers a body that is not JSON with 400', async () => {
    const res = await t.http
      .post('/api/v1/login')
      .set('Content-Type', 'text/plain')
      .send('email=a@example.com')
      .expect(400);
    expect(res.body).toEqual({ code: 400, message: '请求参数错误', error: expect.any(String) });
  });

  it.each([
    ['a malformed percent-encoding', '/api/v1/user/%E0%A4%A', 'malformed URL'],
    [
      'a path parameter of 1,000 characters',
      `/api/v1/user/${'a'.repeat(1000)}`,
      'path parameter too long',
    ],
  ])(
    'answers %s with the 400 envelope, a request id and the security headers',
    async (_name, path, error) => {
      const user = await registerUser(t.http);
      const res = await t.http
        .get(path)
        .set(bearer(user.token))
        .set('X-Request-Id', 'bad-url-1')
        .expect(400);
      expect(res.body).toEqual({ code: 400, message: '请求参数错误', error });
      expect(res.headers['x-request-id']).toBe('bad-url-1');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    },
  );

  it('serves a route with a trailing slash', async () => {
    const user = await registerUser(t.http);
    const res = await t.http.get('/api/v1/user/profile/').set(bearer(user.token)).expect(200);
    expect(res.body.data.user_id).toBe(user.user_id);
  });

  it('answers an unexpected error with 500, a request id and nothing internal', async () => {
    const res = await t.http.get('/api/v1/test-failures/crash').expect(500);
    const requestId = res.headers['x-request-id'];
    expect(requestId).toEqual(expect.any(String));
    expect(res.body).toEqual({
      code: 500,
      message: '服务器内部错误',
      error: `unexpected error, request id ${requestId}`,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/boom|secret|\.ts|at /);
  });

  it('never leaks SQL or driver messages', async () => {
    const res = await t.http.get('/api/v1/test-failures/sql').expect(500);
    expect(res.body).toMatchObject({ code: 500, message: '服务器内部错误' });
    expect(JSON.stringify(res.body)).not.toMatch(/SELECT|password|ER_PARSE/);
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const mine = await t.http.get('/health').set('X-Request-Id', 'client-req-42').expect(200);
    expect(mine.headers['x-request-id']).toBe('client-req-42');
    const unsafe = await t.http.get('/health').set('X-Request-Id', 'a b c').expect(200);
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves liveness and readiness (database checked) in the envelope', async () => {
    const live = await t.http.get('/health').expect(200);
    expect(live.body).toMatchObject({ code: 200, message: 'success', data: { status: 'ok' } });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      code: 200,
      data: { status: 'ok', info: { database: { status: 'up' } } },
    });
  });

  it('answers 200 (not 201) for a successful POST', async () => {
    const user = await registerUser(t.http);
    const res = await t.http.post('/api/v1/logout').set(bearer(user.token));
    expect(res.status).toBe(200);
  });

  it('sends CORS headers for any origin by default outside production', async () => {
    const res = await t.http
      .options('/api/v1/login')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('lets browsers send every method and header the API uses', async () => {
    const res = await t.http
      .options('/api/v1/user/profile')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'PUT')
      .set('Access-Control-Request-Headers', 'authorization,content-type,x-request-id')
      .expect(204);
    expect(res.headers['access-control-allow-methods']?.split(/,\s*/)).toEqual(
      expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    );
    expect(res.headers['access-control-allow-headers']).toBe(
      'authorization,content-type,x-request-id',
    );
  });

  describe('OpenAPI', () => {
    it('serves the UI at /docs', async () => {
      const res = await t.http.get('/docs').redirects(1).expect(200);
      expect(res.text).toContain('swagger-ui');
    });

    it('documents every endpoint with the envelope, errors and bearer auth', async () => {
      const res = await t.http.get('/docs-json').expect(200);
      const doc = res.body;
      const expected: [string, string][] = [
        ['post', '/api/v1/register'],
        ['post', '/api/v1/login'],
        ['post', '/api/v1/logout'],
        ['put', '/api/v1/user/password'],
        ['get', '/api/v1/user/profile'],
        ['put', '/api/v1/user/profile'],
        ['get', '/api/v1/user/search'],
        ['get', '/api/v1/user/{user_id}'],
        ['post', '/api/v1/group'],
        ['get', '/api/v1/group'],
        ['get', '/api/v1/group/{group_id}'],
        ['put', '/api/v1/group/{group_id}'],
        ['delete', '/api/v1/group/{group_id}'],
        ['get', '/api/v1/group/{group_id}/members'],
        ['post', '/api/v1/group/{group_id}/members'],
        ['delete', '/api/v1/group/{group_id}/members/{user_id}'],
        ['post', '/api/v1/group/{group_id}/leave'],
        ['put', '/api/v1/group/{group_id}/members/{user_id}/role'],
        ['post', '/api/v1/chat/message'],
        ['get', '/api/v1/chat/messages'],
        ['post', '/api/v1/chat/read'],
        ['get', '/api/v1/chat/conversations'],
        ['get', '/api/v1/chat/sync'],
        ['get', '/health'],
        ['get', '/health/ready'],
      ];
      for (const [method, path] of expected) {
        const op = doc.paths[path]?.[method];
        expect({ path, method, documented: Boolean(op) }).toEqual({
          path,
          method,
          documented: true,
        });
        expect(op.responses['200']).toBeDefined();
      }
      const register = doc.paths['/api/v1/register'].post;
      expect(register.requestBody.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/RegisterDto',
      );
      expect(
        register.responses['200'].content['application/json'].schema.properties.data.$ref,
      ).toBe('#/components/schemas/RegisteredUserDto');
      expect(register.responses['409']).toBeDefined();
      expect(
        doc.paths['/api/v1/login'].post.responses['401'].content['application/json'].schema.example,
      ).toEqual({
        code: 401,
        message: '登录失败',
        error: '邮箱或密码错误',
      });
      const profile = doc.paths['/api/v1/user/profile'].get;
      expect(profile.security).toEqual([{ bearer: [] }]);
      expect(profile.responses['401']).toBeDefined();
      expect(doc.paths['/api/v1/login'].post.security).toBeUndefined();
      expect(doc.paths['/api/v1/group'].post.parameters ?? []).toEqual([]);
      const groupDelete = doc.paths['/api/v1/group/{group_id}'].delete;
      expect(groupDelete.parameters).toEqual([
        expect.objectContaining({ name: 'group_id', in: 'path', required: true }),
      ]);
      expect(Object.keys(groupDelete.responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '403',
        '404',
      ]);
      expect(doc.components.schemas.HistoryDto.properties.total.type).toBe('integer');
      expect(doc.components.schemas.ErrorResponseDto.properties.code.type).toBe('integer');
      expect(doc.paths['/api/v1/files/{name}'].get.responses['200']).toBeDefined();
      expect(doc.paths['/api/v1/group/{group_id}/members'].get.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'group_id',
            schema: expect.objectContaining({ format: 'uuid' }),
          }),
        ]),
      );
      expect(doc.components.schemas.SendMessageDto.properties.receiver_id).toMatchObject({
        type: 'string',
        nullable: true,
      });
      expect(doc.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(doc.components.schemas.RegisterDto.properties.username.example).toBeDefined();
      expect(doc.components.schemas.ProfileDto.required).toEqual(
        expect.arrayContaining([
          'user_id',
          'username',
          'email',
          'phone',
          'avatar',
          'created_at',
          'updated_at',
        ]),
      );
    });
  });

  it('has a schema built by migrations that matches the entities exactly', async () => {
    const pending = await t.dataSource.showMigrations();
    expect(pending).toBe(false);
    const drift = await t.dataSource.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
  });
});
