/**
 * The service against the baseline (bench/baseline/server.ts), same scenario, same machine,
 * alternating: builds once, then for each round runs the baseline and then the service, each
 * on a freshly created MariaDB database and a freshly started server, with `bench.ts` as a
 * child process. Prints, per figure, the median of each side and the ratio service/baseline,
 * then one JSON line with everything.
 *
 *   npm run bench:pair -- <scenario> [--rounds 2] [--db-name bench_pair]
 *                         [--mysql mysql://root@127.0.0.1:3306] [--port 3300]
 *                         [--baseline-entry bench/baseline/server.ts]
 *                         [any other bench option, e.g. --messages 100000 --duration 10]
 *
 * `--baseline-entry service` runs the service on both sides (checks the plumbing).
 *
 * The build is copied to a private directory right away and the service runs from there:
 * `nest build` empties dist/ first, so a build started meanwhile would pull it from under a run.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createConnection } from 'mysql2/promise';

type Side = 'baseline' | 'service';
type Result = Record<string, unknown>;

interface Options {
  scenario: string;
  rounds: number;
  dbName: string;
  mysql: string;
  port: number;
  baselineEntry: string;
  passThrough: string[];
}

const JWT_SECRET = 'bench-pair-secret-0123456789abcdef-0123456789';
const TS_NODE_ENV = { TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: 'tsconfig.json' };
/** This run's copy of dist/. */
const BUILD = join(tmpdir(), `bench-pair-dist-${process.pid}`);

/** `npm run build`, then a private copy of dist/ (retried if another build emptied it meanwhile). */
function build(): void {
  for (let attempt = 1; ; attempt += 1) {
    console.error('npm run build ...');
    execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
    rmSync(BUILD, { recursive: true, force: true });
    try {
      cpSync('dist', BUILD, { recursive: true });
      if (existsSync(join(BUILD, 'main.js'))) return;
    } catch {
      // dist/ changed while being copied
    }
    if (attempt === 3) throw new Error('could not take a copy of dist/ (another build running?)');
  }
}

function parseArgs(argv: string[]): Options {
  if (!argv[0] || argv[0].startsWith('--')) {
    throw new Error('usage: npm run bench:pair -- <scenario> [--rounds 2] [bench options]');
  }
  const opts: Options = {
    scenario: argv[0],
    rounds: 2,
    dbName: 'bench_pair',
    mysql: 'mysql://root@127.0.0.1:3306',
    port: 3300,
    baselineEntry: 'bench/baseline/server.ts',
    passThrough: [],
  };
  for (let i = 1; i < argv.length; i += 2) {
    const [key, value] = [argv[i].replace(/^--/, ''), argv[i + 1]];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === 'rounds') opts.rounds = Number(value);
    else if (key === 'db-name') opts.dbName = value;
    else if (key === 'mysql') opts.mysql = value.replace(/\/+$/, '');
    else if (key === 'port') opts.port = Number(value);
    else if (key === 'baseline-entry') opts.baselineEntry = value;
    else if (['url', 'pid', 'db'].includes(key)) throw new Error(`--${key} is set by bench:pair`);
    else opts.passThrough.push(`--${key}`, value);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 2) throw new Error('--rounds must be ≥ 2');
  if (!/^\w+$/.test(opts.dbName)) throw new Error('--db-name: letters, digits and _ only');
  return opts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recreateDatabase(opts: Options): Promise<string> {
  const conn = await createConnection({ uri: `${opts.mysql}/` });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${opts.dbName}\``);
    await conn.query(
      `CREATE DATABASE \`${opts.dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await conn.end();
  }
  return `${opts.mysql}/${opts.dbName}`;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

async function freePort(from: number): Promise<number> {
  for (let port = from; port < from + 100; port += 1) {
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port in ${from}-${from + 99}`);
}

interface Server {
  child: ChildProcess;
  pid: number;
  url: string;
  log: string;
  exited: Promise<number | null>;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts one side as a direct child of this process (so its pid is the server's own). */
async function startServer(
  side: Side,
  opts: Options,
  databaseUrl: string,
  round: number,
): Promise<Server> {
  const port = await freePort(opts.port);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...TS_NODE_ENV,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    // Abuse limits out of the way of the load (every one the bench could hit).
    RATE_LIMIT_REGISTER: '100000/60',
    RATE_LIMIT_LOGIN: '100000/60',
    RATE_LIMIT_MESSAGES: '100000000/60',
    RATE_LIMIT_UPLOADS: '100000/60',
    TYPING_RATE_LIMIT: '1000',
  };
  delete env.REDIS_URL; // single instance on both sides
  const entry =
    side === 'service' || opts.baselineEntry === 'service'
      ? join(BUILD, 'main.js')
      : opts.baselineEntry;
  const args = entry.endsWith('.ts') ? ['-r', 'ts-node/register', entry] : [entry];
  env.NODE_PATH = resolve('node_modules'); // for the copy of dist/ outside the repository
  const log = join(tmpdir(), `bench-pair-${opts.scenario}-${side}-${round}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const server: Server = { child, pid: child.pid!, url: `http://127.0.0.1:${port}`, log, exited };
  current = server;

  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${side} exited during start-up (log ${log}):\n${tail(log)}`);
    for (const path of ['/api/v1/health', '/health']) {
      try {
        const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return server;
      } catch {
        // not listening yet
      }
    }
    await sleep(250);
  }
  await stopServer(server);
  throw new Error(`${side} did not answer /api/v1/health or /health in 90 s (log ${log})`);
}

let current: Server | null = null;

/** SIGTERM, then wait for the exit (SIGKILL after 20 s). */
async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const killed = await Promise.race([
      server.exited.then(() => false),
      sleep(20_000).then(() => true),
    ]);
    if (killed) {
      console.error(`pid ${server.pid} ignored SIGTERM for 20 s: SIGKILL`);
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }
  if (current === server) current = null;
}

/** Runs bench.ts as a child, its output shown as it comes; returns its JSON line. */
function runBench(opts: Options, server: Server, databaseUrl: string): Promise<Result> {
  const args = [
    '-r',
    'ts-node/register',
    'bench/bench.ts',
    opts.scenario,
    '--url',
    server.url,
    '--pid',
    String(server.pid),
    '--db',
    databaseUrl,
    ...opts.passThrough,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...TS_NODE_ENV },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`bench ${opts.scenario} failed (exit ${code})`));
        return;
      }
      resolve(JSON.parse(line) as Result);
    });
  });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round3 = (n: number | null) => (n === null ? null : +n.toFixed(3));

async function main(opts: Options): Promise<void> {
  build();

  const runs: { round: number; side: Side; result: Result }[] = [];
  for (let round = 1; round <= opts.rounds; round += 1) {
    for (const side of ['baseline', 'service'] as const) {
      const databaseUrl = await recreateDatabase(opts);
      const server = await startServer(side, opts, databaseUrl, round);
      console.error(
        `\n== round ${round}/${opts.rounds}: ${side} (pid ${server.pid}, ${server.url})`,
      );
      try {
        runs.push({ round, side, result: await runBench(opts, server, databaseUrl) });
      } finally {
        await stopServer(server);
      }
    }
  }

  const figures = [
    ...new Set(
      runs.flatMap((r) =>
        Object.entries(r.result)
          .filter(([, v]) => typeof v === 'number')
          .map(([k]) => k),
      ),
    ),
  ];
  const summary: Record<
    string,
    { service: number | null; baseline: number | null; ratio: number | null }
  > = {};
  for (const figure of figures) {
    const of = (side: Side) =>
      median(
        runs
          .filter((r) => r.side === side && typeof r.result[figure] === 'number')
          .map((r) => r.result[figure] as number),
      );
    const [service, baseline] = [of('service'), of('baseline')];
    summary[figure] = {
      service: round3(service),
      baseline: round3(baseline),
      ratio: service !== null && baseline ? round3(service / baseline) : null,
    };
  }
  console.log(
    `\n${opts.scenario}: median of ${opts.rounds} rounds each, ratio = service / baseline`,
  );
  console.table(summary);
  console.log(
    JSON.stringify({
      scenario: opts.scenario,
      rounds: opts.rounds,
      options: opts.passThrough,
      summary,
      runs,
    }),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const server = current;
    if (server) server.child.kill('SIGTERM');
    process.exit(130);
  });
}

process.once('exit', () => rmSync(BUILD, { recursive: true, force: true }));

Promise.resolve()
  .then(() => main(parseArgs(process.argv.slice(2))))
  .catch(async (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    if (current) await stopServer(current);
    process.exit(1);
  });
