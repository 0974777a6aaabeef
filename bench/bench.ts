/**
 * Load benchmark of a running service, through its public API only (HTTP + socket.io-client,
 * websocket transport). Prints a table and one JSON line.
 *
 *   npm run bench -- dm|dm-socket|group|history|idle [--url http://127.0.0.1:3000]
 *                    [--duration 10] [--warmup 8 (seconds; history: per query kind)]
 *                    [--rate 100 (group: open loop at this many messages/s)]
 *                    [--pid <server pid> (else found from the port)]
 *                    [--messages 1000000 (history: size of the big conversation)]
 *                    [--db mysql://root@127.0.0.1:3306/chat (history: the service's database,
 *                      seeded directly; dm, dm-socket, group: the database server whose CPU
 *                      per message is reported too; default $DATABASE_URL)]
 *                    [--requests 200 (history: measured requests per query kind)]
 *                    [--budget 60 (history: at most this many seconds per query kind)]
 *                    [--sockets 5000 (idle: connections to hold open)]
 *
 * history: two users registered through the API; a conversation of --messages messages between
 * them and 1,000 more private conversations of the first one are written straight into the
 * database (the only step that bypasses the API), then history, conversation list and sync
 * queries are timed one at a time. idle: server memory per open, idle socket (run it against a
 * freshly started server).
 *
 * Run the service with limits raised for the load, e.g.
 *   RATE_LIMIT_REGISTER=100000/60 RATE_LIMIT_MESSAGES=100000000/60 npm run start:prod
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Connection, createConnection, RowDataPacket } from 'mysql2/promise';
import { io, Socket } from 'socket.io-client';
import { v7 as uuidv7 } from 'uuid';

interface Options {
  scenario: string;
  url: string;
  duration: number;
  warmup: number;
  rate?: number;
  pid?: number;
  messages: number;
  db?: string;
  requests: number;
  budget: number;
  sockets: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    scenario: argv[0] ?? 'dm',
    url: 'http://127.0.0.1:3000',
    duration: 10,
    // The service's JIT is still compiling its hot paths for about 7 s after load starts (its
    // compiler threads were seen busy that long); a shorter warm-up measures the compiler.
    warmup: 8,
    messages: 1_000_000,
    db: process.env.DATABASE_URL,
    requests: 200,
    budget: 60,
    sockets: 5000,
  };
  for (let i = 1; i < argv.length; i += 2) {
    const [key, value] = [argv[i].replace(/^--/, ''), argv[i + 1]];
    if (key === 'url') opts.url = value;
    else if (key === 'duration') opts.duration = Number(value);
    else if (key === 'warmup') opts.warmup = Number(value);
    else if (key === 'rate') opts.rate = Number(value);
    else if (key === 'pid') opts.pid = Number(value);
    else if (key === 'messages') opts.messages = Number(value);
    else if (key === 'db') opts.db = value;
    else if (key === 'requests') opts.requests = Number(value);
    else if (key === 'budget') opts.budget = Number(value);
    else if (key === 'sockets') opts.sockets = Number(value);
    else throw new Error(`unknown option --${key}`);
  }
  return opts;
}

interface User {
  id: string;
  token: string;
}

/**
 * Keep-alive connections for every request the bench makes. `node:http` rather than `fetch`:
 * fetch (undici's WHATWG layer) cost the load generator about 0.38 ms of CPU per message in
 * `dm`, nearly twice the server's own, so on a 2-core box the bench measured itself.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request to the API; the status and the parsed JSON body. */
function http(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> = {};
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function api<T>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const json = (await http(url, method, path, body, token)).body as {
    code: number;
    data: T;
    error?: string;
  };
  if (json.code !== 200) {
    const hint =
      json.code === 429 ? ' (raise RATE_LIMIT_REGISTER / RATE_LIMIT_MESSAGES for benchmarks)' : '';
    throw new Error(`${method} ${path}: ${json.code} ${json.error ?? ''}${hint}`);
  }
  return json.data;
}

async function createUsers(url: string, n: number): Promise<User[]> {
  const run = randomBytes(3).toString('hex');
  const users: User[] = [];
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, n - i) }, async (_, j) => {
        const name = `b${run}_${i + j}`;
        const reg = await api<{ user_id: string }>(url, 'POST', '/register', {
          username: name,
          email: `${name}@bench.local`,
          password: 'bench-password',
        });
        const login = await api<{ token: string }>(url, 'POST', '/login', {
          email: `${name}@bench.local`,
          password: 'bench-password',
        });
        return { id: reg.user_id, token: login.token };
      }),
    );
    users.push(...batch);
  }
  return users;
}

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(url, {
    path: '/api/v1/ws',
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Server CPU time (user + system) in milliseconds, from /proc. */
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/**
 * The MySQL/MariaDB server's pid, when --db names one on this machine (its CPU is part of each
 * message's cost); undefined for another host, whose CPU /proc cannot tell.
 */
function databasePid(db: string | undefined): number | undefined {
  if (!db || !/^(mysql|mariadb):/.test(db)) return undefined;
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(db).hostname);
  return local ? pidOfPort(db.replace(/^mariadb:/, 'mysql:')) : undefined;
}

function pidOfPort(url: string): number | undefined {
  try {
    const port = new URL(url).port || (url.startsWith('mysql:') ? '3306' : '80');
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tracker {
  sent: Map<string, number>;
  latencies: number[];
  deliveries: number;
  duplicates: number;
  measuring: boolean;
}

/** Counts a message:new: latency from the send's start to this delivery, keyed by content. */
function track(socket: Socket, tracker: Tracker, expected: Map<string, number>): void {
  socket.on('message:new', (m: { content: string }) => {
    const start = tracker.sent.get(m.content);
    if (start === undefined) return;
    const left = (expected.get(m.content) ?? 0) - 1;
    if (left < 0) {
      tracker.duplicates += 1;
      return;
    }
    expected.set(m.content, left);
    if (tracker.measuring) {
      tracker.latencies.push(performance.now() - start);
      tracker.deliveries += 1;
    }
  });
}

async function run(opts: Options): Promise<void> {
  const pid = opts.pid ?? pidOfPort(opts.url);
  if (opts.scenario === 'history') return runHistory(opts, pid);
  if (opts.scenario === 'idle') return runIdle(opts, pid);
  const tracker: Tracker = {
    sent: new Map(),
    latencies: [],
    deliveries: 0,
    duplicates: 0,
    measuring: false,
  };
  const expected = new Map<string, number>();
  let seq = 0;
  let errors = 0;
  let measuredSends = 0;
  const sockets: Socket[] = [];

  let send: (i: number) => Promise<void>;
  let senders: number;
  let fanOut: number;

  if (opts.scenario === 'dm' || opts.scenario === 'dm-socket') {
    const users = await createUsers(opts.url, 100);
    const pairs = Array.from({ length: 50 }, (_, i) => ({
      from: users[2 * i],
      to: users[2 * i + 1],
    }));
    for (const p of pairs) {
      const s = await connect(opts.url, p.to.token);
      track(s, tracker, expected);
      sockets.push(s);
    }
    const senderSockets =
      opts.scenario === 'dm-socket'
        ? await Promise.all(pairs.map((p) => connect(opts.url, p.from.token)))
        : [];
    sockets.push(...senderSockets);
    senders = 32;
    fanOut = 1;
    send = async (i) => {
      const pair = pairs[i % pairs.length];
      const content = `m${(seq += 1)}`;
      const body = { type: 'text', content, receiver_id: pair.to.id };
      expected.set(content, 1);
      tracker.sent.set(content, performance.now());
      if (opts.scenario === 'dm-socket') {
        const ack = (await senderSockets[i % pairs.length]
          .timeout(10_000)
          .emitWithAck('message:send', body)) as {
          code: number;
        };
        if (ack.code !== 200) throw new Error(String(ack.code));
      } else {
        await api(opts.url, 'POST', '/chat/message', body, pair.from.token);
      }
    };
  } else if (opts.scenario === 'group') {
    const users = await createUsers(opts.url, 200);
    const owner = users[0];
    const group = await api<{ group_id: string }>(
      opts.url,
      'POST',
      '/group',
      { name: 'bench', description: '' },
      owner.token,
    );
    for (let i = 1; i < users.length; i += 100) {
      await api(
        opts.url,
        'POST',
        `/group/${group.group_id}/members`,
        { user_ids: users.slice(i, i + 100).map((u) => u.id) },
        owner.token,
      );
    }
    for (const u of users) {
      const s = await connect(opts.url, u.token);
      track(s, tracker, expected);
      sockets.push(s);
    }
    senders = 4;
    fanOut = users.length;
    send = async (i) => {
      const content = `g${(seq += 1)}`;
      expected.set(content, fanOut);
      tracker.sent.set(content, performance.now());
      await api(
        opts.url,
        'POST',
        '/chat/message',
        { type: 'text', content, group_id: group.group_id },
        users[i % 4].token,
      );
    };
  } else {
    throw new Error(`unknown scenario ${opts.scenario} (dm, dm-socket, group, history, idle)`);
  }

  let stop = false;
  /** From a send's start to its HTTP response or ack (what the sender waits for). */
  const sendLatencies: number[] = [];
  const timedSend = async (i: number) => {
    const start = performance.now();
    await send(i);
    if (tracker.measuring) {
      measuredSends += 1;
      sendLatencies.push(performance.now() - start);
    }
  };
  const loop = async (i: number) => {
    while (!stop) {
      try {
        await timedSend(i);
      } catch {
        if (tracker.measuring) errors += 1;
      }
    }
  };
  const openLoop = async () => {
    const interval = 1000 / opts.rate!;
    let next = performance.now();
    let i = 0;
    while (!stop) {
      void timedSend((i += 1)).catch(() => tracker.measuring && (errors += 1));
      next += interval;
      await sleep(Math.max(0, next - performance.now()));
    }
  };

  const workers = opts.rate ? [openLoop()] : Array.from({ length: senders }, (_, i) => loop(i));
  await sleep(opts.warmup * 1000);
  const firstMeasured = seq + 1;
  tracker.measuring = true;
  const dbPid = databasePid(opts.db);
  const cpuBefore = cpuMs(pid);
  const dbBefore = cpuMs(dbPid);
  const clientBefore = process.cpuUsage();
  const t0 = performance.now();
  await sleep(opts.duration * 1000);
  tracker.measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpuAfter = cpuMs(pid);
  const dbAfter = cpuMs(dbPid);
  const client = process.cpuUsage(clientBefore);
  const lastMeasured = seq;
  stop = true;
  await Promise.all(workers);
  await sleep(1000); // let deliveries in flight arrive

  let missing = 0;
  for (let n = firstMeasured; n <= lastMeasured; n += 1) {
    missing += Math.max(0, expected.get(`${opts.scenario === 'group' ? 'g' : 'm'}${n}`) ?? 0);
  }
  const sorted = [...tracker.latencies].sort((a, b) => a - b);
  const sendSorted = sendLatencies.sort((a, b) => a - b);
  const result = {
    scenario: opts.scenario + (opts.rate ? `@${opts.rate}/s` : ''),
    messages_per_s: +(measuredSends / elapsed).toFixed(1),
    deliveries_per_s: +(tracker.deliveries / elapsed).toFixed(1),
    p50_ms: +percentile(sorted, 50).toFixed(2),
    p90_ms: +percentile(sorted, 90).toFixed(2),
    p99_ms: +percentile(sorted, 99).toFixed(2),
    max_ms: +(sorted[sorted.length - 1] ?? NaN).toFixed(2),
    send_p50_ms: +percentile(sendSorted, 50).toFixed(2),
    send_p99_ms: +percentile(sendSorted, 99).toFixed(2),
    errors,
    missing,
    duplicates: tracker.duplicates,
    server_cpu_ms_per_message:
      cpuBefore !== null && cpuAfter !== null && measuredSends > 0
        ? +((cpuAfter - cpuBefore) / measuredSends).toFixed(3)
        : null,
    client_cpu_ms_per_message:
      measuredSends > 0 ? +((client.user + client.system) / 1000 / measuredSends).toFixed(3) : null,
    db_cpu_ms_per_message:
      dbBefore !== null && dbAfter !== null && measuredSends > 0
        ? +((dbAfter - dbBefore) / measuredSends).toFixed(3)
        : null,
    fan_out: fanOut,
  };
  for (const s of sockets) s.disconnect();
  console.table(Object.entries(result).map(([figure, value]) => ({ figure, value })));
  console.log(JSON.stringify(result));
}

/* ------------------------------------------------------------------------------------------ */
/* history: a big conversation and many small ones, seeded straight into the database          */
/* ------------------------------------------------------------------------------------------ */

const DAY_MS = 86_400_000;
const OTHER_CONVERSATIONS = 1000;
const SEED_CHUNK = 5000;
/** A valid bcrypt hash (of an unused password) for the peers inserted directly. */
const PEER_PASSWORD_HASH = '$2b$04$yFf09rPod2G4s.w18qHMNOhnuvjr8qArRgfkkkaUKwjNg1tKOKLJ2';

/** DATETIME(3) literal in UTC, as the service stores it (timezone 'Z'). */
function sqlTime(ms: number): string {
  return `'${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')}'`;
}

function privateKey(a: string, b: string): string {
  return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

/**
 * Multi-row INSERTs of SEED_CHUNK rows over two connections, the next chunk built while the
 * previous ones run. Measured on 300k rows (busy 2-core box, so roughly): two connections
 * 40-80k rows/s against 40-55k for one; 2k/10k-row chunks, unique_checks=0 or a transaction
 * per chunk made no clear difference. 1M messages take about 12-21 s.
 */
class BulkInserter {
  private rows: string[] = [];
  private readonly pending: Promise<unknown>[];
  private next = 0;
  inserted = 0;

  constructor(
    private readonly conns: Connection[],
    private readonly head: string,
  ) {
    this.pending = conns.map(() => Promise.resolve());
  }

  /** `tuple` is a ready SQL tuple; every value in it is generated here, never user input. */
  async add(tuple: string): Promise<void> {
    this.rows.push(tuple);
    if (this.rows.length >= SEED_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const rows = this.rows;
    this.rows = [];
    if (rows.length === 0) return;
    const slot = this.next++ % this.conns.length;
    await this.pending[slot];
    this.inserted += rows.length;
    this.pending[slot] = this.conns[slot].query(`${this.head} VALUES ${rows.join(',')}`);
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.pending);
  }
}

function messageTuple(
  id: string,
  key: string,
  content: string,
  sender: string,
  receiver: string,
  at: number,
): string {
  return `('${id}','${key}','text','${content}','${sender}','${receiver}',NULL,NULL,${sqlTime(at)})`;
}

interface Seeded {
  /** Ids of the big conversation's messages at the positions the queries need (0 = oldest). */
  ids: Map<number, string>;
  conversations: number;
  rows: number;
  seconds: number;
}

/**
 * Writes what the service would have written for these conversations: UUIDv7 ids ascending
 * with created_at (spread over the last 30 days, so nothing is near "now"), `p:<low>:<high>`
 * keys, one conversations row each with its newest id / count / time, and some read marks.
 */
async function seedHistory(
  dbUrl: string,
  a: User,
  b: User,
  total: number,
  keep: number[],
): Promise<Seeded> {
  const t0 = performance.now();
  const conns = await Promise.all([1, 2].map(() => createConnection({ uri: dbUrl })));
  const conn = conns[0];
  const run = randomBytes(3).toString('hex');
  const end = Date.now() - 3_600_000;
  const start = end - 30 * DAY_MS;
  try {
    for (const c of conns) await c.query('SET SESSION unique_checks = 0, foreign_key_checks = 0');
    let rows = 0;

    // 1,000 peers of user a, each with a few messages.
    const peers = Array.from({ length: OTHER_CONVERSATIONS }, () => randomUUID());
    const users = new BulkInserter(
      conns,
      'INSERT INTO users (id, username, username_key, email, phone, avatar, password_hash, token_version, last_seen_at, created_at, updated_at)',
    );
    for (const [i, id] of peers.entries()) {
      const name = `p${run}_${i}`;
      const at = sqlTime(start - DAY_MS);
      await users.add(
        `('${id}','${name}','${name}','${name}@bench.local',NULL,NULL,'${PEER_PASSWORD_HASH}',0,NULL,${at},${at})`,
      );
    }
    await users.close();
    rows += users.inserted;

    const messages = new BulkInserter(
      conns,
      'INSERT INTO messages (id, conversation_key, type, content, sender_id, receiver_id, group_id, client_msg_id, created_at)',
    );
    const conversations: string[] = [];
    const marks: string[] = [];
    const conversationTuple = (key: string, last: string, count: number, at: number) => {
      const [low, high] = key.slice(2).split(':');
      return `('${key}','private',NULL,'${low}','${high}','${last}',${count},${sqlTime(at)},${Math.floor(at / 1000)})`;
    };
    for (const [p, peer] of peers.entries()) {
      const key = privateKey(a.id, peer);
      const count = 3 + (p % 5);
      const times = Array.from({ length: count }, () => start + Math.random() * (end - start));
      times.sort((x, y) => x - y);
      let at = 0;
      let last = '';
      for (const [j, t] of times.entries()) {
        at = Math.max(Math.floor(t), at + 1);
        last = uuidv7({ msecs: at });
        const fromA = (p + j) % 2 === 0;
        await messages.add(
          messageTuple(last, key, `hello ${p}.${j}`, fromA ? a.id : peer, fromA ? peer : a.id, at),
        );
      }
      conversations.push(conversationTuple(key, last, count, at));
      if (p % 3 === 0) marks.push(`('${key}','${a.id}','${last}',${sqlTime(at + 60_000)})`);
    }

    // The big conversation between a and b, oldest first, one message every ~2.6 s.
    const key = privateKey(a.id, b.id);
    const step = Math.max(1, Math.floor((end - start) / total));
    const wanted = new Set(keep);
    const ids = new Map<number, string>();
    let id = '';
    let at = 0;
    for (let i = 0; i < total; i += 1) {
      at = end - (total - 1 - i) * step;
      id = uuidv7({ msecs: at });
      if (wanted.has(i)) ids.set(i, id);
      const fromA = i % 3 !== 0;
      await messages.add(
        messageTuple(id, key, `message ${i}`, fromA ? a.id : b.id, fromA ? b.id : a.id, at),
      );
    }
    await messages.close();
    rows += messages.inserted;
    conversations.push(conversationTuple(key, id, total, at));
    // b has read everything; a is 50 messages behind.
    marks.push(`('${key}','${b.id}','${id}',${sqlTime(at + 1000)})`);
    marks.push(`('${key}','${a.id}','${ids.get(total - 50)}',${sqlTime(at - 1000)})`);

    await conn.query(
      `INSERT INTO conversations (conversation_key, type, group_id, user_a, user_b, last_message_id, message_count, updated_at, active_second) VALUES ${conversations.join(',')}`,
    );
    await conn.query(
      `INSERT INTO read_marks (conversation_key, user_id, message_id, read_at) VALUES ${marks.join(',')}`,
    );
    rows += conversations.length + marks.length;
    return {
      ids,
      conversations: conversations.length,
      rows,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const c of conns) await c.end();
  }
}

/**
 * Waits (at most 120 s) until InnoDB has stopped writing the bulk seed's dirty pages out (no
 * page flushed for 3 s), so that the queries are timed against a settled database rather
 * than beside the seed's own disk writes. Returns the seconds waited.
 */
async function settleAfterSeed(dbUrl: string): Promise<number> {
  const conn = await createConnection({ uri: dbUrl });
  const t0 = performance.now();
  try {
    const flushed = async () => {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_flushed'",
      );
      return Number(rows[0]?.Value ?? 0);
    };
    let last = await flushed();
    let quiet = 0;
    while (quiet < 3 && performance.now() - t0 < 120_000) {
      await sleep(1000);
      const now = await flushed();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  } finally {
    await conn.end();
  }
  return (performance.now() - t0) / 1000;
}

function getJson(url: string, path: string, token: string): Promise<{ status: number; body: any }> {
  return http(url, 'GET', path, undefined, token);
}

interface KindResult {
  n: number;
  p50_ms: number;
  p99_ms: number;
  req_per_s: number;
  cpu_ms_per_req: number | null;
  errors: number;
}

/**
 * One request at a time: a warm-up (`warmup` seconds, at least 3 and at most 2,000 requests),
 * then `requests` measured ones (fewer if `budget` seconds run out, never fewer than 20).
 * `check` returns null when the answer is right, else what is wrong; a wrong answer or a failed
 * request is an error.
 */
async function measureKind(
  name: string,
  opts: Options,
  pid: number | undefined,
  check: () => Promise<string | null>,
): Promise<KindResult> {
  const problems: string[] = [];
  const once = async () => {
    let problem: string | null;
    try {
      problem = await check();
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (problem !== null) problems.push(problem);
  };
  const warmupEnd = performance.now() + opts.warmup * 1000;
  for (let i = 0; i < 3 || (i < 2000 && performance.now() < warmupEnd); i += 1) await once();
  problems.length = 0; // the warm-up's do not count
  const latencies: number[] = [];
  const cpuBefore = cpuMs(pid);
  const t0 = performance.now();
  while (
    latencies.length < opts.requests &&
    (latencies.length < 20 || performance.now() - t0 < opts.budget * 1000)
  ) {
    const s = performance.now();
    await once();
    latencies.push(performance.now() - s);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpuAfter = cpuMs(pid);
  if (problems.length > 0) {
    console.error(`${name}: ${problems.length} errors, first: ${problems[0]}`);
  }
  const sorted = latencies.sort((x, y) => x - y);
  return {
    n: latencies.length,
    p50_ms: +percentile(sorted, 50).toFixed(2),
    p99_ms: +percentile(sorted, 99).toFixed(2),
    req_per_s: +(latencies.length / elapsed).toFixed(1),
    cpu_ms_per_req:
      cpuBefore !== null && cpuAfter !== null
        ? +((cpuAfter - cpuBefore) / latencies.length).toFixed(3)
        : null,
    errors: problems.length,
  };
}

/** null when a history page is `count` messages starting with `firstId`, in `order`. */
function checkPage(
  res: { status: number; body: any },
  count: number,
  firstId: string | undefined,
  order: 'asc' | 'desc',
  total?: number,
): string | null {
  if (res.status !== 200) return `HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
  const messages = res.body.data?.messages as { message_id: string }[] | undefined;
  if (!Array.isArray(messages)) return 'no messages array';
  if (messages.length !== count) return `${messages.length} messages, expected ${count}`;
  if (firstId !== undefined && messages[0]?.message_id !== firstId) {
    return `first message ${messages[0]?.message_id}, expected ${firstId}`;
  }
  for (let i = 1; i < messages.length; i += 1) {
    const [x, y] = [messages[i - 1].message_id, messages[i].message_id];
    if (order === 'asc' ? x >= y : x <= y) return `messages out of ${order} order`;
  }
  if (total !== undefined && res.body.data.total !== total) {
    return `total ${res.body.data.total}, expected ${total}`;
  }
  return null;
}

async function runHistory(opts: Options, pid: number | undefined): Promise<void> {
  if (!opts.db) throw new Error('history needs --db mysql://... (or DATABASE_URL)');
  const total = opts.messages;
  if (!(total >= 2000)) throw new Error('--messages must be at least 2000');
  const [a, b] = await createUsers(opts.url, 2);
  const offsets = [
    Math.min(10_000, Math.floor(total / 10)),
    Math.min(500_000, Math.floor(total / 2)),
  ];
  const mid = Math.floor(total / 2);
  const syncFrom = total - Math.max(1000, Math.ceil(total / 30)); // about a day back
  const keep = [total - 1, total - 50, mid - 1, mid, mid + 1, syncFrom];
  keep.push(...offsets.map((o) => total - 1 - o));
  console.error(`seeding ${total} + ~${OTHER_CONVERSATIONS * 5} messages into ${opts.db} ...`);
  const seed = await seedHistory(opts.db, a, b, total, keep);
  console.error(`seeded ${seed.rows} rows in ${seed.seconds.toFixed(1)} s`);
  const settled = await settleAfterSeed(opts.db);
  console.error(`waited ${settled.toFixed(1)} s for the database to write the seed out`);
  const id = (i: number) => seed.ids.get(i)!;
  // a has read up to message total - 50; b sent every third message (i % 3 === 0).
  let unreadBig = 0;
  for (let i = total - 49; i < total; i += 1) if (i % 3 === 0) unreadBig += 1;

  const history = (query: string) =>
    getJson(opts.url, `/chat/messages?receiver_id=${b.id}&limit=20${query}`, a.token);
  const kinds: [string, () => Promise<string | null>][] = [
    [
      'first_page',
      async () => {
        const res = await history('');
        const problem = checkPage(res, 20, id(total - 1), 'desc', total);
        if (problem) return problem;
        // b has read everything, a nothing of this page: read_by is [b] on a's messages only.
        type Row = { sender_id: string; read_by: { user_id: string }[] };
        const wrong = (res.body.data.messages as Row[]).find(
          (m) => m.read_by.map((r) => r.user_id).join() !== (m.sender_id === a.id ? b.id : ''),
        );
        return wrong
          ? `read_by ${JSON.stringify(wrong.read_by)} on a message of ${wrong.sender_id}`
          : null;
      },
    ],
    ...offsets.map((o): [string, () => Promise<string | null>] => [
      `offset_${o}`,
      async () => checkPage(await history(`&offset=${o}`), 20, id(total - 1 - o), 'desc', total),
    ]),
    [
      'before_mid',
      async () => checkPage(await history(`&before=${id(mid)}`), 20, id(mid - 1), 'desc', total),
    ],
    [
      'after_mid',
      async () => checkPage(await history(`&after=${id(mid)}`), 20, id(mid + 1), 'asc', total),
    ],
    [
      'conversations',
      async () => {
        const res = await getJson(opts.url, '/chat/conversations?limit=20', a.token);
        if (res.status !== 200) return `HTTP ${res.status}`;
        const list = res.body.data?.conversations as {
          peer: { user_id: string } | null;
          last_message: { message_id: string } | null;
          unread_count: number;
        }[];
        if (list?.length !== 20) return `${list?.length} conversations, expected 20`;
        if (res.body.data.total !== seed.conversations) {
          return `total ${res.body.data.total}, expected ${seed.conversations}`;
        }
        if (list[0].last_message?.message_id !== id(total - 1)) return 'big conversation not first';
        if (list[0].unread_count !== unreadBig) {
          return `unread_count ${list[0].unread_count}, expected ${unreadBig}`;
        }
        if (list.some((c) => !c.peer || !c.last_message)) return 'a peer or last_message missing';
        return null;
      },
    ],
    [
      'sync',
      async () => {
        const after = id(syncFrom);
        const res = await getJson(opts.url, `/chat/sync?after=${after}&limit=500`, a.token);
        const problem = checkPage(res, 500, undefined, 'asc');
        if (problem) return problem;
        if (res.body.data.messages[0].message_id <= after) return 'message not after the cursor';
        if (res.body.data.has_more !== true) return 'has_more should be true';
        return null;
      },
    ],
  ];
  const results: Record<string, KindResult> = {};
  for (const [name, check] of kinds) results[name] = await measureKind(name, opts, pid, check);

  console.table(results);
  const flat: Record<string, number | string | null> = {
    scenario: 'history',
    messages: total,
    conversations: seed.conversations,
    seed_s: +seed.seconds.toFixed(1),
    seed_rows_per_s: Math.round(seed.rows / seed.seconds),
  };
  for (const [name, r] of Object.entries(results)) {
    for (const [figure, value] of Object.entries(r)) flat[`${name}_${figure}`] = value;
  }
  flat.errors = Object.values(results).reduce((sum, r) => sum + r.errors, 0);
  console.log(JSON.stringify(flat));
}

/* ------------------------------------------------------------------------------------------ */
/* idle: server memory per open socket                                                         */
/* ------------------------------------------------------------------------------------------ */

/** Resident memory of a process in KB (VmRSS), or null. */
function rssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

async function runIdle(opts: Options, pid: number | undefined): Promise<void> {
  const users = await createUsers(opts.url, 50);
  await sleep(3000);
  const rssBefore = rssKb(pid);
  const cpuBefore = cpuMs(pid);
  const sockets: Socket[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const t0 = performance.now();
  for (let i = 0; i < opts.sockets; i += 100) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(100, opts.sockets - i) }, (_, j) =>
        Promise.race([
          connect(opts.url, users[(i + j) % users.length].token),
          sleep(30_000).then(() => Promise.reject(new Error('connect timed out'))),
        ]),
      ),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') sockets.push(r.value);
      else {
        errors += 1;
        firstError ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
  }
  const connectS = (performance.now() - t0) / 1000;
  const cpuAfter = cpuMs(pid);
  await sleep(5000); // let the handshakes' garbage and presence updates settle
  const rssAfter = rssKb(pid);
  const connected = sockets.filter((s) => s.connected).length;
  errors += sockets.length - connected;
  if (firstError !== null) console.error(`idle: first error: ${firstError}`);
  for (const s of sockets) s.disconnect();
  const result = {
    scenario: 'idle',
    sockets: opts.sockets,
    connected,
    errors,
    connect_s: +connectS.toFixed(2),
    connects_per_s: +(sockets.length / connectS).toFixed(1),
    server_cpu_ms_per_connect:
      cpuBefore !== null && cpuAfter !== null && sockets.length > 0
        ? +((cpuAfter - cpuBefore) / sockets.length).toFixed(3)
        : null,
    rss_before_mb: rssBefore !== null ? +(rssBefore / 1024).toFixed(1) : null,
    rss_after_mb: rssAfter !== null ? +(rssAfter / 1024).toFixed(1) : null,
    kb_per_connection:
      rssBefore !== null && rssAfter !== null && connected > 0
        ? +((rssAfter - rssBefore) / connected).toFixed(2)
        : null,
  };
  console.table(Object.entries(result).map(([figure, value]) => ({ figure, value })));
  console.log(JSON.stringify(result));
}

run(parseArgs(process.argv.slice(2))).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
