/**
 * Load benchmark of a running service, through its public API only (HTTP + socket.io-client,
 * websocket transport). Prints a table and one JSON line.
 *
 *   npm run bench -- dm|dm-socket|group [--url http://127.0.0.1:3000] [--duration 10]
 *                    [--warmup 2] [--rate 100 (group: open loop at this many messages/s)]
 *                    [--pid <server pid> (else found from the port)]
 *
 * Run the service with limits raised for the load, e.g.
 *   RATE_LIMIT_REGISTER=100000/60 RATE_LIMIT_MESSAGES=100000000/60 npm run start:prod
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { io, Socket } from 'socket.io-client';

interface Options {
  scenario: string;
  url: string;
  duration: number;
  warmup: number;
  rate?: number;
  pid?: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    scenario: argv[0] ?? 'dm',
    url: 'http://127.0.0.1:3000',
    duration: 10,
    warmup: 2,
  };
  for (let i = 1; i < argv.length; i += 2) {
    const [key, value] = [argv[i].replace(/^--/, ''), argv[i + 1]];
    if (key === 'url') opts.url = value;
    else if (key === 'duration') opts.duration = Number(value);
    else if (key === 'warmup') opts.warmup = Number(value);
    else if (key === 'rate') opts.rate = Number(value);
    else if (key === 'pid') opts.pid = Number(value);
    else throw new Error(`unknown option --${key}`);
  }
  return opts;
}

interface User {
  id: string;
  token: string;
}

async function api<T>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { code: number; data: T; error?: string };
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

function pidOfPort(url: string): number | undefined {
  try {
    const port = new URL(url).port || '80';
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
    throw new Error(`unknown scenario ${opts.scenario} (dm, dm-socket, group)`);
  }

  let stop = false;
  const loop = async (i: number) => {
    while (!stop) {
      try {
        await send(i);
        if (tracker.measuring) measuredSends += 1;
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
      void send((i += 1)).then(
        () => tracker.measuring && (measuredSends += 1),
        () => tracker.measuring && (errors += 1),
      );
      next += interval;
      await sleep(Math.max(0, next - performance.now()));
    }
  };

  const workers = opts.rate ? [openLoop()] : Array.from({ length: senders }, (_, i) => loop(i));
  await sleep(opts.warmup * 1000);
  const firstMeasured = seq + 1;
  tracker.measuring = true;
  const cpuBefore = cpuMs(pid);
  const t0 = performance.now();
  await sleep(opts.duration * 1000);
  tracker.measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpuAfter = cpuMs(pid);
  const lastMeasured = seq;
  stop = true;
  await Promise.all(workers);
  await sleep(1000); // let deliveries in flight arrive

  let missing = 0;
  for (let n = firstMeasured; n <= lastMeasured; n += 1) {
    missing += Math.max(0, expected.get(`${opts.scenario === 'group' ? 'g' : 'm'}${n}`) ?? 0);
  }
  const sorted = [...tracker.latencies].sort((a, b) => a - b);
  const result = {
    scenario: opts.scenario + (opts.rate ? `@${opts.rate}/s` : ''),
    messages_per_s: +(measuredSends / elapsed).toFixed(1),
    deliveries_per_s: +(tracker.deliveries / elapsed).toFixed(1),
    p50_ms: +percentile(sorted, 50).toFixed(2),
    p90_ms: +percentile(sorted, 90).toFixed(2),
    p99_ms: +percentile(sorted, 99).toFixed(2),
    max_ms: +(sorted[sorted.length - 1] ?? NaN).toFixed(2),
    errors,
    missing,
    duplicates: tracker.duplicates,
    server_cpu_ms_per_message:
      cpuBefore !== null && cpuAfter !== null && measuredSends > 0
        ? +((cpuAfter - cpuBefore) / measuredSends).toFixed(3)
        : null,
    fan_out: fanOut,
  };
  for (const s of sockets) s.disconnect();
  console.table(Object.entries(result).map(([figure, value]) => ({ figure, value })));
  console.log(JSON.stringify(result));
}

run(parseArgs(process.argv.slice(2))).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
