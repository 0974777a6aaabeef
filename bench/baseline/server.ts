/**
 * BASELINE SERVER — a performance yardstick for the real service, NOT the product.
 *
 * The smallest honest hand-written server for the endpoints and events `bench/bench.ts` uses:
 * plain `node:http` + `socket.io` + a `mysql2` pool, one INSERT per message, the same tables
 * and indexes as the service's migrations (bench/baseline/schema.sql), no framework. It
 * verifies the JWT signature and expiry only (no revocation / token-version lookups), keeps no
 * `conversations` counters, and answers history, conversations and sync with plain SQL.
 * Whatever the service costs above this, per message, is what its framework and features cost.
 *
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/baseline PORT=3000 npm run bench:baseline
 *
 * Env: PORT (3000), DATABASE_URL (mysql://root@127.0.0.1:3306/baseline), JWT_SECRET.
 * BASELINE_GROUP_COMMIT=1 makes it a second yardstick: messages that arrive while an INSERT
 * runs wait for it and go into the next one, one multi-row INSERT (no transaction, no
 * counters). That is group commit at its cheapest, to show what it gives a raw server here.
 * The schema is created at start when missing (CREATE TABLE IF NOT EXISTS).
 */
import * as bcrypt from 'bcryptjs';
import * as jwt from 'jsonwebtoken';
import { createSecretKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createPool, RowDataPacket } from 'mysql2/promise';
import { Server } from 'socket.io';
import { v7 as uuidv7 } from 'uuid';

const PORT = Number(process.env.PORT ?? 3000);
const DATABASE_URL = process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/baseline';
const JWT_KEY = createSecretKey(
  Buffer.from(process.env.JWT_SECRET ?? 'baseline-only-secret-not-for-production-use!'),
);
const JWT_EXPIRES_IN = 86400;
const BCRYPT_ROUNDS = 4; // registration is not measured
const BODY_LIMIT = 1024 * 1024;

// Same pool size as the service (src/database/data-source-options.ts). Datetimes travel as
// UTC strings 'YYYY-MM-DD hh:mm:ss.mmm' both ways, whatever the driver's time-zone handling.
const pool = createPool({
  uri: DATABASE_URL,
  connectionLimit: 20,
  charset: 'UTF8MB4_UNICODE_CI',
  dateStrings: true,
  enableKeepAlive: true,
});
type Row = RowDataPacket;
const toSql = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const toIso = (s: string | null) => (s ? `${s.replace(' ', 'T')}Z` : null);

// ---- errors and envelopes (CONTRACT §1) ----------------------------------------------------

const MESSAGES: Record<number, string> = {
  400: '请求参数错误',
  401: '未授权或 token 无效',
  403: '权限不足',
  404: '资源不存在',
  409: '资源冲突',
  413: '请求体过大',
  500: '服务器内部错误',
};
class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly error: string,
    readonly text = MESSAGES[code],
  ) {
    super(error);
  }
}
const bad = (error: string) => new HttpError(400, error);
const ok = (data: unknown) => ({ code: 200, message: 'success', data });
function fail(err: unknown) {
  if (err instanceof HttpError) return { code: err.code, message: err.text, error: err.error };
  console.error(err);
  return { code: 500, message: MESSAGES[500], error: 'internal error' };
}

// ---- validation (minimal) ------------------------------------------------------------------

type Json = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MEDIA = /^(https?:\/\/[^\s/]+\S*|\/api\/v1\/files\/[A-Za-z0-9][A-Za-z0-9._-]{0,199})$/;

function only(o: Json, allowed: string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw bad(`property ${k} should not exist`);
}
function uuid(value: unknown, name: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw bad(`${name} must be a UUID`);
  return value.toLowerCase();
}
function int(value: string | null, name: string, min: number, max: number, dflt: number): number {
  if (value === null) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be ${min}..${max}`);
  return n;
}

// ---- auth ----------------------------------------------------------------------------------

function verify(token: string | undefined): string {
  try {
    const payload = jwt.verify(token ?? '', JWT_KEY, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    if (typeof payload.sub === 'string') return payload.sub;
  } catch {
    // fall through
  }
  throw new HttpError(401, 'invalid token');
}
const bearer = (h: string | undefined) => (h?.startsWith('Bearer ') ? h.slice(7) : undefined);

async function register(body: Json) {
  only(body, ['username', 'email', 'password', 'phone']);
  const username = typeof body.username === 'string' ? body.username.trim() : '';
  const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
  const { password, phone = null } = body;
  if (!/^[\p{L}\p{N}_.-]{2,32}$/u.test(username)) throw bad('username must be 2-32 characters');
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw bad('invalid email');
  if (typeof password !== 'string' || password.length < 8 || Buffer.byteLength(password) > 72) {
    throw bad('password must be 8-72 bytes');
  }
  if (phone !== null && (typeof phone !== 'string' || !/^\+\d{6,15}$/.test(phone))) {
    throw bad('invalid phone');
  }
  const id = randomUUID();
  const at = toSql(new Date());
  try {
    await pool.execute(
      `INSERT INTO users (id, username, username_key, email, phone, password_hash, token_version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      [
        id,
        username,
        username.toLowerCase(),
        email,
        phone,
        await bcrypt.hash(password, BCRYPT_ROUNDS),
        at,
        at,
      ],
    );
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') {
      throw new HttpError(409, 'email or username already taken');
    }
    throw err;
  }
  return { user_id: id, username, email, phone, created_at: toIso(at) };
}

async function login(body: Json) {
  only(body, ['email', 'password']);
  const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
  if (!email || typeof body.password !== 'string') throw bad('email and password are required');
  const [rows] = await pool.execute<Row[]>(
    'SELECT id, username, email, password_hash FROM users WHERE email = ?',
    [email],
  );
  const user = rows[0];
  if (!user || !(await bcrypt.compare(body.password, user.password_hash as string))) {
    throw new HttpError(401, '邮箱或密码错误', '登录失败');
  }
  const token = jwt.sign({ sub: user.id as string, jti: randomUUID() }, JWT_KEY, {
    algorithm: 'HS256',
    expiresIn: JWT_EXPIRES_IN,
  });
  return {
    token,
    expires_in: JWT_EXPIRES_IN,
    user: { user_id: user.id, username: user.username, email: user.email },
  };
}

// ---- groups --------------------------------------------------------------------------------

async function createGroup(userId: string, body: Json) {
  only(body, ['name', 'description', 'avatar']);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  const { description, avatar = null } = body;
  if (name.length < 1 || name.length > 64) throw bad('name must be 1-64 characters');
  if (typeof description !== 'string' || description.length > 500) {
    throw bad('description must be at most 500 characters');
  }
  if (avatar !== null && (typeof avatar !== 'string' || !MEDIA.test(avatar))) {
    throw bad('avatar must be an http(s) URL or an upload path');
  }
  const id = randomUUID();
  const at = toSql(new Date());
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await conn.execute(
      'INSERT INTO `groups` (id, name, description, avatar, creator_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [id, name, description, avatar, userId, at, at],
    );
    await conn.execute(
      "INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)",
      [id, userId, at],
    );
    await conn.commit();
  } catch (err) {
    await conn.rollback();
    throw err;
  } finally {
    conn.release();
  }
  io.in(`user:${userId}`).socketsJoin(`group:${id}`);
  return { group_id: id, name, description, avatar, creator_id: userId, created_at: toIso(at) };
}

/** The caller's role in a group: 404 when there is no such group, 403 when not a member. */
async function requireRole(groupId: string, userId: string): Promise<string> {
  const [rows] = await pool.execute<Row[]>(
    'SELECT role FROM group_members WHERE group_id = ? AND user_id = ?',
    [groupId, userId],
  );
  if (rows.length) return rows[0].role as string;
  const [groups] = await pool.execute<Row[]>('SELECT 1 FROM `groups` WHERE id = ?', [groupId]);
  throw groups.length ? new HttpError(403, 'not a member of this group') : notFound('group');
}
const notFound = (what: string) => new HttpError(404, `${what} not found`);

async function addMembers(userId: string, rawGroupId: string, body: Json) {
  only(body, ['user_ids']);
  const groupId = uuid(rawGroupId, 'group_id');
  if (!Array.isArray(body.user_ids) || body.user_ids.length < 1 || body.user_ids.length > 500) {
    throw bad('user_ids must be an array of 1-500 user ids');
  }
  const ids = [...new Set(body.user_ids.map((u) => uuid(u, 'user_ids')))];
  const role = await requireRole(groupId, userId);
  if (role !== 'owner' && role !== 'admin') throw new HttpError(403, 'owner or admin only');
  const [[found], [existing]] = await Promise.all([
    pool.query<Row[]>('SELECT id FROM users WHERE id IN (?)', [ids]),
    pool.query<Row[]>('SELECT user_id FROM group_members WHERE group_id = ? AND user_id IN (?)', [
      groupId,
      ids,
    ]),
  ]);
  if (found.length !== ids.length) throw notFound('user');
  const already = new Set(existing.map((r) => r.user_id as string));
  const added = ids.filter((id) => !already.has(id));
  if (added.length) {
    const at = toSql(new Date());
    await pool.query(
      'INSERT IGNORE INTO group_members (group_id, user_id, role, joined_at) VALUES ?',
      [added.map((id) => [groupId, id, 'member', at])],
    );
    io.in(added.map((id) => `user:${id}`)).socketsJoin(`group:${groupId}`);
  }
  const [[count]] = await pool.execute<Row[]>(
    'SELECT COUNT(*) AS n FROM group_members WHERE group_id = ?',
    [groupId],
  );
  return { group_id: groupId, added_user_ids: added, member_count: Number(count.n) };
}

// ---- chat ----------------------------------------------------------------------------------

interface Target {
  key: string;
  receiverId: string | null;
  groupId: string | null;
}

/** The conversation named by receiver_id / group_id; group ones only for members. */
async function resolveTarget(userId: string, o: Json): Promise<Target> {
  if ((o.receiver_id != null) === (o.group_id != null)) {
    throw bad('exactly one of receiver_id or group_id is required');
  }
  if (o.group_id != null) {
    const groupId = uuid(o.group_id, 'group_id');
    await requireRole(groupId, userId);
    return { key: `g:${groupId}`, receiverId: null, groupId };
  }
  const receiverId = uuid(o.receiver_id, 'receiver_id');
  if (receiverId === userId) throw bad('receiver_id cannot be yourself');
  const key = userId < receiverId ? `p:${userId}:${receiverId}` : `p:${receiverId}:${userId}`;
  return { key, receiverId, groupId: null };
}

function toMessage(r: Row) {
  return {
    message_id: r.id as string,
    type: r.type as string,
    content: r.content as string,
    sender_id: r.sender_id as string,
    receiver_id: r.receiver_id as string | null,
    group_id: r.group_id as string | null,
    created_at: toIso(r.created_at as string),
  };
}

const INSERT_MESSAGES =
  'INSERT INTO messages (id, conversation_key, type, content, sender_id, receiver_id, group_id, client_msg_id, created_at) VALUES ';
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
const GROUP_COMMIT = process.env.BASELINE_GROUP_COMMIT === '1';
const MAX_BATCH_ROWS = 64;
type Param = string | null;
const queued: { params: Param[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
let inserting = false;

/** One INSERT per message, or with BASELINE_GROUP_COMMIT=1 a share of a multi-row one. */
function insertMessage(params: Param[]): Promise<unknown> {
  if (!GROUP_COMMIT) return pool.execute(INSERT_MESSAGES + ROW, params);
  return new Promise<void>((resolve, reject) => {
    queued.push({ params, resolve, reject });
    if (!inserting) {
      inserting = true;
      setImmediate(() => void insertQueued());
    }
  });
}

/**
 * The queued rows in one INSERT; if it fails, each row alone, so a duplicate client_msg_id fails
 * only its own sender (a yardstick: a batch whose connection died after commit is written twice).
 */
async function insertQueued(): Promise<void> {
  const batch = queued.splice(0, MAX_BATCH_ROWS);
  try {
    const rows = batch.map(() => ROW).join(', ');
    await pool.query(
      INSERT_MESSAGES + rows,
      batch.flatMap((b) => b.params),
    );
    for (const b of batch) b.resolve();
  } catch {
    for (const b of batch) {
      await pool.execute(INSERT_MESSAGES + ROW, b.params).then(() => b.resolve(), b.reject);
    }
  }
  if (queued.length > 0) setImmediate(() => void insertQueued());
  else inserting = false;
}

/** One INSERT, then `message:new` to the receiver and the sender (or the group's room). */
async function sendMessage(senderId: string, body: Json, fromSocket?: string) {
  only(body, ['type', 'content', 'receiver_id', 'group_id', 'client_msg_id']);
  const { type, content, client_msg_id: clientMsgId = null } = body;
  if (type !== 'text' && type !== 'image' && type !== 'file') {
    throw bad('type must be one of text, image, file');
  }
  if (
    typeof content !== 'string' ||
    (type === 'text'
      ? content.length > 5000 || content.trim() === ''
      : content.length > 2048 || !MEDIA.test(content))
  ) {
    throw bad('invalid content');
  }
  if (
    clientMsgId !== null &&
    (typeof clientMsgId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(clientMsgId))
  ) {
    throw bad('client_msg_id must be 1-64 printable ASCII characters');
  }
  const target = await resolveTarget(senderId, body);
  const row = {
    id: uuidv7(),
    type,
    content,
    sender_id: senderId,
    receiver_id: target.receiverId,
    group_id: target.groupId,
    created_at: toSql(new Date()),
  } as Row;
  try {
    await insertMessage([
      row.id,
      target.key,
      type,
      content,
      senderId,
      row.receiver_id,
      row.group_id,
      clientMsgId,
      row.created_at,
    ]);
  } catch (err) {
    if (clientMsgId === null || (err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
    // A retry with the same client_msg_id: answer with the original, deliver nothing new.
    const [rows] = await pool.execute<Row[]>(
      'SELECT * FROM messages WHERE sender_id = ? AND client_msg_id = ?',
      [senderId, clientMsgId],
    );
    return toMessage(rows[0]);
  }
  const message = toMessage(row);
  const rooms = target.groupId
    ? `group:${target.groupId}`
    : [`user:${target.receiverId}`, `user:${senderId}`];
  (fromSocket ? io.to(rooms).except(fromSocket) : io.to(rooms)).emit('message:new', message);
  return message;
}

async function history(userId: string, q: URLSearchParams) {
  only(Object.fromEntries(q), ['receiver_id', 'group_id', 'limit', 'offset', 'before', 'after']);
  const limit = int(q.get('limit'), 'limit', 1, 100, 20);
  const before = q.has('before') ? uuid(q.get('before'), 'before') : null;
  const after = q.has('after') ? uuid(q.get('after'), 'after') : null;
  if (before && after) throw bad('before and after cannot be combined');
  if ((before || after) && q.has('offset')) throw bad('offset cannot be combined with a cursor');
  const offset = int(q.get('offset'), 'offset', 0, 1e9, 0);
  const target = await resolveTarget(userId, {
    receiver_id: q.get('receiver_id'),
    group_id: q.get('group_id'),
  });
  const page = after
    ? pool.execute<Row[]>(
        `SELECT * FROM messages WHERE conversation_key = ? AND id > ? ORDER BY id ASC LIMIT ${limit + 1}`,
        [target.key, after],
      )
    : before
      ? pool.execute<Row[]>(
          `SELECT * FROM messages WHERE conversation_key = ? AND id < ? ORDER BY id DESC LIMIT ${limit + 1}`,
          [target.key, before],
        )
      : pool.execute<Row[]>(
          `SELECT * FROM messages WHERE conversation_key = ? ORDER BY id DESC LIMIT ${limit + 1} OFFSET ${offset}`,
          [target.key],
        );
  const [[rows], [[count]]] = await Promise.all([
    page,
    pool.execute<Row[]>('SELECT COUNT(*) AS n FROM messages WHERE conversation_key = ?', [
      target.key,
    ]),
  ]);
  const hasMore = rows.length > limit;
  const messages = rows.slice(0, limit);
  // A read mark at or past a message means its user has read it (the sender excepted).
  const oldest = messages.reduce((min, r) => (r.id < min ? (r.id as string) : min), '\uffff');
  const [marks] = messages.length
    ? await pool.execute<Row[]>(
        'SELECT user_id, message_id, read_at FROM read_marks WHERE conversation_key = ? AND message_id >= ? ORDER BY read_at, user_id',
        [target.key, oldest],
      )
    : [[] as Row[]];
  return {
    messages: messages.map((r) => ({
      ...toMessage(r),
      read_by: marks
        .filter((m) => m.message_id >= r.id && m.user_id !== r.sender_id)
        .map((m) => ({ user_id: m.user_id as string, read_at: toIso(m.read_at as string) })),
    })),
    total: Number(count.n),
    has_more: hasMore,
  };
}

/** Private conversations with messages and every group of mine, most recent activity first. */
async function conversations(userId: string, q: URLSearchParams) {
  only(Object.fromEntries(q), ['limit', 'offset']);
  const limit = int(q.get('limit'), 'limit', 1, 100, 20);
  const offset = int(q.get('offset'), 'offset', 0, 1e9, 0);
  const [all] = await pool.execute<Row[]>(
    `SELECT c.k, c.gid, c.joined_at, m.id, m.type, m.content, m.sender_id, m.receiver_id,
            m.group_id, m.created_at
     FROM (SELECT conversation_key AS k, NULL AS gid, NULL AS joined_at, MAX(id) AS last_id
             FROM messages WHERE group_id IS NULL AND (sender_id = ? OR receiver_id = ?)
             GROUP BY conversation_key
           UNION ALL
           SELECT CONCAT('g:', gm.group_id), gm.group_id, gm.joined_at,
                  (SELECT MAX(id) FROM messages WHERE conversation_key = CONCAT('g:', gm.group_id))
             FROM group_members gm WHERE gm.user_id = ?) c
     LEFT JOIN messages m ON m.id = c.last_id
     ORDER BY COALESCE(m.created_at, c.joined_at) DESC, c.k`,
    [userId, userId, userId],
  );
  const page = all.slice(offset, offset + limit);
  const keys = page.map((c) => c.k as string);
  const peerOf = (k: string) =>
    k
      .slice(2)
      .split(':')
      .find((id) => id !== userId)!;
  const peerIds = keys.filter((k) => k.startsWith('p:')).map(peerOf);
  const groupIds = page.filter((c) => c.gid).map((c) => c.gid as string);
  const [[unread], [peers], [groups]] = await Promise.all([
    keys.length
      ? pool.query<Row[]>(
          `SELECT m.conversation_key AS k, COUNT(*) AS n FROM messages m
           LEFT JOIN read_marks r ON r.conversation_key = m.conversation_key AND r.user_id = ?
           LEFT JOIN group_members gm ON gm.group_id = m.group_id AND gm.user_id = ?
           WHERE m.conversation_key IN (?) AND m.sender_id <> ?
             AND (m.id > r.message_id
                  OR r.message_id IS NULL AND (gm.joined_at IS NULL OR m.created_at >= gm.joined_at))
           GROUP BY m.conversation_key`,
          [userId, userId, keys, userId],
        )
      : [[] as Row[]],
    peerIds.length
      ? pool.query<Row[]>('SELECT id, username, avatar, last_seen_at FROM users WHERE id IN (?)', [
          peerIds,
        ])
      : [[] as Row[]],
    groupIds.length
      ? pool.query<Row[]>('SELECT id, name, avatar FROM `groups` WHERE id IN (?)', [groupIds])
      : [[] as Row[]],
  ]);
  const unreadBy = new Map(unread.map((r) => [r.k as string, Number(r.n)]));
  const peerBy = new Map(peers.map((u) => [u.id as string, u]));
  const groupBy = new Map(groups.map((g) => [g.id as string, g]));
  return {
    conversations: page.map((c) => {
      const peer = c.gid ? undefined : peerBy.get(peerOf(c.k as string));
      const group = c.gid ? groupBy.get(c.gid as string) : undefined;
      return {
        type: c.gid ? 'group' : 'private',
        peer: peer
          ? {
              user_id: peer.id,
              username: peer.username,
              avatar: peer.avatar,
              online: io.sockets.adapter.rooms.has(`user:${peer.id}`),
              last_seen_at: toIso(peer.last_seen_at as string | null),
            }
          : null,
        group: group ? { group_id: group.id, name: group.name, avatar: group.avatar } : null,
        last_message: c.id ? toMessage(c) : null,
        unread_count: unreadBy.get(c.k as string) ?? 0,
        updated_at: toIso((c.created_at ?? c.joined_at) as string),
      };
    }),
    total: all.length,
  };
}

/** Every message of my conversations after `after`, oldest first. */
async function sync(userId: string, q: URLSearchParams) {
  only(Object.fromEntries(q), ['after', 'limit']);
  const limit = int(q.get('limit'), 'limit', 1, 500, 100);
  const after = q.has('after') ? uuid(q.get('after'), 'after') : null;
  const [rows] = await pool.execute<Row[]>(
    `SELECT * FROM messages
     WHERE id > ? AND (group_id IS NULL AND (sender_id = ? OR receiver_id = ?)
                       OR group_id IN (SELECT group_id FROM group_members WHERE user_id = ?))
     ORDER BY id LIMIT ${limit + 1}`,
    [after ?? '', userId, userId, userId],
  );
  const messages = rows.slice(0, limit).map(toMessage);
  return {
    messages,
    has_more: rows.length > limit,
    watermark: messages.length ? messages[messages.length - 1].message_id : after,
  };
}

// ---- HTTP ----------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) reject(new HttpError(413, 'body too large'));
      else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        const body: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error();
        resolve(body as Json);
      } catch {
        reject(bad('malformed JSON body'));
      }
    });
  });
}

async function route(req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  if (method === 'GET' && ['/health', '/health/ready', '/api/v1/health'].includes(path)) {
    return { status: 'ok' };
  }
  if (method === 'POST' && path === '/api/v1/register') return register(await readBody(req));
  if (method === 'POST' && path === '/api/v1/login') return login(await readBody(req));
  const routes: Record<string, (userId: string) => Promise<unknown>> = {
    'POST /api/v1/group': async (u) => createGroup(u, await readBody(req)),
    'POST /api/v1/chat/message': async (u) => sendMessage(u, await readBody(req)),
    'GET /api/v1/chat/messages': (u) => history(u, url.searchParams),
    'GET /api/v1/chat/conversations': (u) => conversations(u, url.searchParams),
    'GET /api/v1/chat/sync': (u) => sync(u, url.searchParams),
  };
  const members = /^\/api\/v1\/group\/([^/]+)\/members$/.exec(path);
  const handler =
    routes[`${method} ${path}`] ??
    (method === 'POST' && members
      ? async (u: string) => addMembers(u, members[1], await readBody(req))
      : undefined);
  if (!handler) throw notFound('route');
  return handler(verify(bearer(req.headers.authorization)));
}

function reply(res: ServerResponse, body: { code: number }): void {
  const json = JSON.stringify(body);
  res.writeHead(body.code, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

const server = createServer((req, res) => {
  route(req).then(
    (data) => reply(res, ok(data)),
    (err: unknown) => reply(res, fail(err)),
  );
});

// ---- Socket.IO -----------------------------------------------------------------------------

const io = new Server(server, {
  path: '/api/v1/ws',
  serveClient: false,
  cors: { origin: true },
  maxHttpBufferSize: BODY_LIMIT,
});

// Authenticate and look up the groups before the connection is accepted, so that the rooms
// are joined (synchronously, on connection) before the client sees `connect`.
io.use((socket, next) => {
  const { auth, headers, query } = socket.handshake;
  const token =
    bearer(headers.authorization) ??
    (typeof auth?.token === 'string' ? auth.token : undefined) ??
    (typeof query.token === 'string' ? query.token : undefined);
  let userId: string;
  try {
    userId = verify(token);
  } catch {
    return next(new Error(MESSAGES[401]));
  }
  pool.execute<Row[]>('SELECT group_id FROM group_members WHERE user_id = ?', [userId]).then(
    ([rows]) => {
      socket.data = { userId, groups: rows.map((r) => r.group_id as string) };
      next();
    },
    (err: Error) => next(err),
  );
});

io.on('connection', (socket) => {
  const { userId, groups } = socket.data as { userId: string; groups: string[] };
  void socket.join([`user:${userId}`, ...groups.map((g) => `group:${g}`)]);
  socket.on('message:send', (body: unknown, ack: unknown) => {
    const answer = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return answer(fail(bad('payload must be an object')));
    }
    sendMessage(userId, body as Json, socket.id).then(
      (m) => answer(ok(m)),
      (err: unknown) => answer(fail(err)),
    );
  });
});

// ---- start / stop --------------------------------------------------------------------------

async function main(): Promise<void> {
  const schema = readFileSync(join(__dirname, 'schema.sql'), 'utf8').replace(/^--.*$/gm, '');
  for (const statement of schema.split(';').filter((s) => s.trim())) await pool.query(statement);
  server.listen(PORT, () => console.log(`baseline server listening on :${PORT}`));
}

function stop(): void {
  setTimeout(() => process.exit(0), 2000).unref();
  void io.close(() => void pool.end().finally(() => process.exit(0)));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
