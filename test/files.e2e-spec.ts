import { readdirSync } from 'node:fs';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from(
    '0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4d30000000049454e44ae426082',
    'hex',
  ),
]);

describe('Attachments (e2e)', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        UPLOAD_MAX_BYTES: '64kb',
        UPLOAD_TYPES: 'image/png,application/pdf,text/plain',
        RATE_LIMIT_UPLOADS: '12/60',
      },
    });
    user = await registerUser(t.http);
  });
  afterAll(() => t.close());

  const upload = (buffer: Buffer, filename: string, contentType: string) =>
    t.http
      .post('/api/v1/upload')
      .set(bearer(user.token))
      .attach('file', buffer, { filename, contentType });

  it('stores an image under a generated name and serves it back safely', async () => {
    const res = await upload(PNG, '../../etc/我的 头像.png', 'image/png').expect(200);
    expect(res.body).toEqual({
      code: 200,
      message: 'success',
      data: {
        url: expect.stringMatching(/^\/api\/v1\/files\/[0-9a-f-]{36}\.png$/),
        name: '我的 头像.png',
        size: PNG.length,
        mime: 'image/png',
      },
    });
    const file = await t.http.get(res.body.data.url).expect(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-disposition']).toBe('inline');
    expect(Buffer.from(file.body as Buffer).equals(PNG)).toBe(true);
    const stored = readdirSync(process.env.UPLOAD_DIR!);
    expect(stored).toEqual([res.body.data.url.split('/').pop()]);
  });

  it('serves other types as attachments', async () => {
    const res = await upload(
      Buffer.from('<script>alert(1)</script>'),
      'notes.html',
      'text/plain',
    ).expect(200);
    const file = await t.http.get(res.body.data.url).expect(200);
    expect(file.headers['content-type']).toMatch(/^text\/plain/);
    expect(file.headers['content-disposition']).toMatch(/^attachment/);
  });

  it('accepts the returned url as an avatar and as an image message', async () => {
    const res = await upload(PNG, 'a.png', 'image/png').expect(200);
    await t.http
      .put('/api/v1/user/profile')
      .set(bearer(user.token))
      .send({ avatar: res.body.data.url })
      .expect(200);
    const other = await registerUser(t.http);
    await t.http
      .post('/api/v1/chat/message')
      .set(bearer(user.token))
      .send({ type: 'image', content: res.body.data.url, receiver_id: other.user_id })
      .expect(200);
  });

  it('refuses a file over UPLOAD_MAX_BYTES with 413', async () => {
    const res = await upload(Buffer.alloc(70 * 1024, 'a'), 'big.txt', 'text/plain').expect(413);
    expect(res.body).toMatchObject({ code: 413, message: '请求体过大' });
  });

  it.each([
    ['a type not allowed', Buffer.from('GIF89a....'), 'x.gif', 'image/gif', /not allowed/],
    [
      'content that does not match its type',
      Buffer.from('<svg onload=alert(1)>'),
      'x.png',
      'image/png',
      /not image\/png/,
    ],
    ['an empty file', Buffer.alloc(0), 'x.txt', 'text/plain', /empty/],
  ])('refuses %s with 400 and stores nothing', async (_name, buffer, filename, type, reason) => {
    const before = readdirSync(process.env.UPLOAD_DIR!).length;
    const res = await upload(buffer, filename, type).expect(400);
    expect(res.body).toEqual({
      code: 400,
      message: '请求参数错误',
      error: expect.stringMatching(reason),
    });
    expect(readdirSync(process.env.UPLOAD_DIR!).length).toBe(before);
  });

  it('refuses a request without a file (400) and without a token (401)', async () => {
    const res = await t.http
      .post('/api/v1/upload')
      .set(bearer(user.token))
      .field('x', 'y')
      .expect(400);
    expect(res.body.error).toMatch(/file is required/);
    await t.http
      .post('/api/v1/upload')
      .attach('file', PNG, { filename: 'a.png', contentType: 'image/png' })
      .expect(401);
  });

  it('refuses a second file (413), a file under another field, a broken multipart body and a JSON body (400), storing nothing', async () => {
    const other = await registerUser(t.http);
    const before = readdirSync(process.env.UPLOAD_DIR!).length;
    const two = await t.http
      .post('/api/v1/upload')
      .set(bearer(other.token))
      .attach('file', PNG, { filename: 'a.png', contentType: 'image/png' })
      .attach('file', PNG, { filename: 'b.png', contentType: 'image/png' })
      .expect(413);
    expect(two.body).toMatchObject({ code: 413, message: '请求体过大' });
    const misnamed = await t.http
      .post('/api/v1/upload')
      .set(bearer(other.token))
      .attach('avatar', PNG, { filename: 'a.png', contentType: 'image/png' })
      .expect(400);
    expect(misnamed.body).toEqual({
      code: 400,
      message: '请求参数错误',
      error: 'unexpected file field "avatar" (expected "file")',
    });
    const broken = await t.http
      .post('/api/v1/upload')
      .set(bearer(other.token))
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nno end')
      .expect(400);
    expect(broken.body).toEqual({
      code: 400,
      message: '请求参数错误',
      error: 'malformed multipart body',
    });
    const json = await t.http
      .post('/api/v1/upload')
      .set(bearer(other.token))
      .send({ file: 'x' })
      .expect(400);
    expect(json.body.error).toMatch(/file is required/);
    expect(readdirSync(process.env.UPLOAD_DIR!).length).toBe(before);
  });

  it.each([
    '/api/v1/files/..%2F..%2Fpackage.json',
    '/api/v1/files/%2e%2e%2fpackage.json',
    '/api/v1/files/package.json',
    '/api/v1/files/01a20e07-8e92-765c-8f2f-152e320a0cf8.png',
  ])('answers 404 for %s', async (path) => {
    const res = await t.http.get(path).expect(404);
    expect(res.body).toMatchObject({ code: 404, message: '资源不存在' });
  });

  it('limits uploads per user with 429 and Retry-After', async () => {
    const other = await registerUser(t.http);
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 13; i += 1) {
      const res = await t.http
        .post('/api/v1/upload')
        .set(bearer(other.token))
        .attach('file', Buffer.from(`n${i}`), { filename: 'n.txt', contentType: 'text/plain' });
      statuses.push(res.status);
      retryAfter = res.headers['retry-after'];
    }
    expect(statuses.slice(0, 12).every((s) => s === 200)).toBe(true);
    expect(statuses[12]).toBe(429);
    expect(retryAfter).toBeDefined();
  });
});
