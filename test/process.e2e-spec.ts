import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, connect as tcpConnect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { connect, waitForEvent } from './support/sockets';
import { freshDatabase } from './support/test-app';

/** These tests start `src/main.ts` as a real process, the way `npm start` does. */
const ROOT = resolve(__dirname, '..');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: 'tsconfig.json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    addresses?.some((a) => a.family === 'IPv6' && a.internal),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function waitReady(url: string, proc: Started): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (proc.child.exitCode !== null) throw new Error(`exited early: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

describe('The process (e2e)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-proc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://localhost/db' }],
    ['JWT_EXPIRES_IN', { JWT_EXPIRES_IN: '-5' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'not a url' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost' }],
    ['JWT_SECRET', { NODE_ENV: 'production' }],
  ])('refuses to start with a bad %s, in one line naming it', async (variable, env) => {
    const proc = start({ DATABASE_URL: `sqlite:${join(dir, 'bad.sqlite')}`, ...env });
    expect(await proc.exited).toBe(1);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Configuration error: ${variable} `));
  });

  it('starts with no JWT_SECRET outside production by generating one beside the SQLite file', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const db = join(dir, 'gen', 'chat.sqlite');
    const proc = start({ PORT: String(port), DATABASE_URL: `sqlite:${db}`, BCRYPT_ROUNDS: '4' });
    try {
      await waitReady(url, proc);
      const { existsSync } = await import('node:fs');
      expect(existsSync(join(dir, 'gen', 'jwt-secret'))).toBe(true);
      expect(proc.stdout()).toContain('JWT_SECRET is not set');
      // Every interface: IPv6 as well, where the system has it.
      if (hasIpv6Loopback()) {
        expect((await fetch(`http://[::1]:${port}/health`)).status).toBe(200);
      }
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('logs JSON lines with a request id and never a password or token', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = start({
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(dir, 'logs.sqlite')}`,
      JWT_SECRET: 'process-test-secret-0123456789abcdefghij',
      BCRYPT_ROUNDS: '4',
      LOG_LEVEL: 'info',
    });
    try {
      await waitReady(url, proc);
      const password = 'Sup3r-Secret-Pa55';
      await request(url)
        .post('/api/v1/register')
        .set('X-Request-Id', 'req-log-test-1')
        .send({ username: 'logger', email: 'logger@example.com', password })
        .expect(200);
      const login = await request(url)
        .post('/api/v1/login')
        .send({ email: 'logger@example.com', password })
        .expect(200);
      const token: string = login.body.data.token;
      await request(url)
        .get('/api/v1/user/profile')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      // Answered by the router itself, before any route.
      await request(url).get('/api/v1/%E0%A4%A').set('X-Request-Id', 'req-log-test-2').expect(400);
      // A CORS preflight, answered before the application's own hooks.
      await request(url)
        .options('/api/v1/login')
        .set('Origin', 'http://app.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('X-Request-Id', 'req-log-test-3')
        .expect(204);
      // A client that goes away before its body is complete.
      await new Promise<void>((done) => {
        const tcp = tcpConnect(port, '127.0.0.1', () => {
          tcp.write(
            'POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
              'Content-Length: 100\r\nX-Request-Id: req-log-test-4\r\n\r\n{"email":',
          );
          setTimeout(() => {
            tcp.destroy();
            done();
          }, 300);
        });
      });
      await new Promise((r) => setTimeout(r, 200));
      const lines = proc
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const lineOf = (id: string) =>
        lines.find((l) => (l.req as { id?: string } | undefined)?.id === id);
      expect(lineOf('req-log-test-1')).toMatchObject({
        level: 30,
        req: { method: 'POST', url: '/api/v1/register' },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
        msg: 'request completed',
      });
      expect(lineOf('req-log-test-2')).toMatchObject({
        level: 40,
        res: { statusCode: 400 },
        responseTime: expect.any(Number),
      });
      expect(lineOf('req-log-test-3')).toMatchObject({
        level: 30,
        req: { method: 'OPTIONS' },
        res: { statusCode: 204 },
      });
      expect(lineOf('req-log-test-4')).toMatchObject({
        level: 30,
        req: { method: 'POST', url: '/api/v1/login', remoteAddress: expect.any(String) },
        msg: 'request aborted',
      });
      expect(proc.stdout()).not.toContain(password);
      expect(proc.stdout()).not.toContain(token);
      expect(proc.stdout()).not.toMatch(/\$2[aby]\$/);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('finishes in-flight requests on SIGTERM, closes sockets so clients reconnect, and exits 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = start({
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(dir, 'term.sqlite')}`,
      JWT_SECRET: 'process-test-secret-0123456789abcdefghij',
      BCRYPT_ROUNDS: '13', // slow enough to still be hashing when the signal arrives
      LOG_LEVEL: 'warn',
    });
    await waitReady(url, proc);
    const password = 'password-123';
    await request(url)
      .post('/api/v1/register')
      .send({ username: 'sock', email: 'sock@example.com', password })
      .expect(200);
    const login = await request(url)
      .post('/api/v1/login')
      .send({ email: 'sock@example.com', password })
      .expect(200);
    const socket = await connect(url, login.body.data.token);
    const closed = waitForEvent<string>(socket, 'disconnect', 15_000);
    const inFlight = request(url)
      .post('/api/v1/register')
      .send({ username: 'drain', email: 'drain@example.com', password: 'password-123' })
      .then((r) => r.status);
    await new Promise((r) => setTimeout(r, 150));
    proc.child.kill('SIGTERM');
    expect(await inFlight).toBe(200);
    // A transport close, not a server-side disconnect: clients reconnect by themselves.
    expect(await closed).toBe('transport close');
    expect(await proc.exited).toBe(0);
  });

  it('records when the users of the sockets it closes on SIGTERM were last seen', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // On MariaDB as well under E2E_DB=mysql: its pool closes faster than the sockets do.
    const database = await freshDatabase();
    const proc = start({
      PORT: String(port),
      DATABASE_URL: database.url,
      JWT_SECRET: 'process-test-secret-0123456789abcdefghij',
      BCRYPT_ROUNDS: '4',
      LOG_LEVEL: 'warn',
    });
    await waitReady(url, proc);
    const names = Array.from({ length: 30 }, (_, i) => `seen${String(i).padStart(2, '0')}`);
    const sockets = [];
    for (const name of names) {
      const password = 'password-123';
      await request(url)
        .post('/api/v1/register')
        .send({ username: name, email: `${name}@example.com`, password })
        .expect(200);
      const login = await request(url)
        .post('/api/v1/login')
        .send({ email: `${name}@example.com`, password })
        .expect(200);
      sockets.push(await connect(url, login.body.data.token));
    }
    const closed = sockets.map((s) => waitForEvent<string>(s, 'disconnect', 15_000));
    proc.child.kill('SIGTERM');
    expect(await Promise.all(closed)).toEqual(names.map(() => 'transport close'));
    for (const s of sockets) s.disconnect();
    expect(await proc.exited).toBe(0);
    // Their disconnects were recorded before the database closed.
    expect(proc.stdout()).not.toContain('could not record');
    const db = await new DataSource(buildDataSourceOptions(database.url)).initialize();
    try {
      const rows = await db.query<{ username: string; last_seen_at: string | null }[]>(
        'SELECT username, last_seen_at FROM users ORDER BY username',
      );
      expect(rows.map((r) => [r.username, r.last_seen_at === null])).toEqual(
        names.map((name) => [name, false]),
      );
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
