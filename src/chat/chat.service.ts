import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { fromSqlTime, iso, now } from '../common/utils/time';
import { isUniqueViolation } from '../database/errors';
import { TransactionRunner } from '../database/transaction-runner';
import { GroupsService } from '../groups/groups.service';
import { GroupDeletedEvent, GroupEvents } from '../groups/group.events';
import { UsersService } from '../users/users.service';
import { ChatEvents, MessageCreatedEvent, Origin, ReadMarkMovedEvent } from './chat.events';
import { activeSecond, Conversation } from './conversation.entity';
import { groupKey, privateKey } from './conversation-key';
import {
  ConversationTargetDto,
  HistoryQueryDto,
  ReadDto,
  SendMessageDto,
  SyncQueryDto,
} from './dto/chat-requests.dto';
import {
  ConversationListDto,
  HistoryDto,
  HistoryMessageDto,
  MessageDto,
  ReadMarkDto,
  SyncDto,
} from './dto/chat-responses.dto';
import { idFloor, idTime } from './message-id';
import { Message } from './message.entity';
import { MessageWriter } from './message-writer';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { ReadMark } from './read-mark.entity';

/** A row of `messages` as the drivers return it (SQLite gives datetimes as UTC text). */
interface RawMessage {
  id: string;
  conversation_key: string;
  type: Message['type'];
  content: string;
  sender_id: string;
  receiver_id: string | null;
  group_id: string | null;
  client_msg_id: string | null;
  created_at: Date | string;
}

/** A resolved conversation, from the caller's point of view. */
export interface Target {
  key: string;
  receiverId: string | null;
  groupId: string | null;
}

@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    @InjectRepository(Conversation) private readonly conversationRepo: Repository<Conversation>,
    @InjectRepository(ReadMark) private readonly marks: Repository<ReadMark>,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly tx: TransactionRunner,
    private readonly events: EventEmitter2,
    private readonly rateLimit: RateLimitService,
    private readonly writer: MessageWriter,
  ) {}

  /**
   * The conversation a request names, checked: the peer must exist (404) and not be the caller
   * (400); the caller must be a member of the group (403; 404 if there is no such group).
   */
  async resolveTarget(userId: string, target: ConversationTargetDto): Promise<Target> {
    if (target.group_id) {
      await this.groups.requireMember(target.group_id, userId);
      return { key: groupKey(target.group_id), receiverId: null, groupId: target.group_id };
    }
    const receiverId = target.receiver_id!;
    if (receiverId === userId) throw AppException.badRequest('receiver_id cannot be yourself');
    if (!(await this.users.exists(receiverId))) throw AppException.notFound('user not found');
    return { key: privateKey(userId, receiverId), receiverId, groupId: null };
  }

  /**
   * Stores a message and, once it is committed, publishes it for delivery. A retry with the
   * same client_msg_id returns the original message and stores nothing.
   */
  async send(senderId: string, dto: SendMessageDto, origin: Origin = {}): Promise<MessageDto> {
    const target = await this.resolveTarget(senderId, dto);
    const clientMsgId = dto.client_msg_id ?? null;
    if (clientMsgId) {
      const existing = await this.messages.findOne({ where: { senderId, clientMsgId } });
      if (existing) return toMessageDto(existing);
    }
    await this.rateLimit.consume('messages', senderId);
    let message: Message;
    try {
      message = await this.writer.write({
        conversationKey: target.key,
        receiverId: target.receiverId,
        groupId: target.groupId,
        type: dto.type,
        content: dto.content,
        senderId,
        clientMsgId,
      });
    } catch (err) {
      if (clientMsgId && isUniqueViolation(err)) {
        // A concurrent retry with the same client_msg_id won the race: answer with its message.
        const existing = await this.messages.findOne({ where: { senderId, clientMsgId } });
        if (existing) return toMessageDto(existing);
      }
      throw err;
    }
    const dtoOut = toMessageDto(message);
    this.events.emit(ChatEvents.MessageCreated, {
      message: dtoOut,
      origin,
    } satisfies MessageCreatedEvent);
    return dtoOut;
  }

  /** History: newest first (offset or `before`), or oldest first after `after`. */
  async history(userId: string, query: HistoryQueryDto): Promise<HistoryDto> {
    if (query.before && query.after) {
      throw AppException.badRequest('before and after cannot be combined');
    }
    if ((query.before || query.after) && query.offset !== undefined) {
      throw AppException.badRequest('offset cannot be combined with before or after');
    }
    const target = await this.resolveTarget(userId, query);
    const limit = query.limit;
    let rows: (Message & { total: number })[];
    // Walk the (conversation_key, id) index from the cursor or the newest end: as fast at any
    // depth. MariaDB would otherwise read a backward `before` page row by row from the newest
    // message.
    const from = this.mysql ? 'messages FORCE INDEX (IDX_messages_conversation)' : 'messages';
    // Each page query also reads the conversation's counter (`total`): one round trip less.
    const total = '(SELECT message_count FROM conversations WHERE conversation_key = ?) AS total';
    if (query.after || query.before) {
      const [op, dir] = query.after ? ['>', 'ASC'] : ['<', 'DESC'];
      rows = await this.messageRows(
        `SELECT *, ${total} FROM ${from} WHERE conversation_key = ? AND id ${op} ? ORDER BY id ${dir} LIMIT ?`,
        [target.key, target.key, query.after ?? query.before, limit + 1],
      );
    } else if (!query.offset) {
      // The first page (the most asked for): the newest end of the index, no join.
      rows = await this.messageRows(
        `SELECT *, ${total} FROM ${from} WHERE conversation_key = ? ORDER BY id DESC LIMIT ?`,
        [target.key, target.key, limit + 1],
      );
    } else {
      // Offset paging skips over ids in the index only, then reads the page's rows.
      rows = await this.messageRows(
        `SELECT m.*, ${total} FROM messages m JOIN (SELECT id FROM messages WHERE conversation_key = ? ORDER BY id DESC LIMIT ? OFFSET ?) page ON page.id = m.id ORDER BY m.id DESC`,
        [target.key, target.key, limit + 1, query.offset],
      );
    }
    const hasMore = rows.length > limit;
    if (hasMore) rows = rows.slice(0, limit);
    const [count, readBy] = await Promise.all([
      rows.length > 0 ? rows[0].total : this.messageCount(target.key),
      this.readBy(target.key, rows),
    ]);
    return {
      messages: rows.map((r) => ({ ...toMessageDto(r), read_by: readBy(r) })),
      total: count,
      has_more: hasMore,
    };
  }

  /** The number of messages of a conversation, from its counter row. */
  private async messageCount(key: string): Promise<number> {
    const [row] = await this.conversationRepo.query<{ message_count: number | string }[]>(
      'SELECT message_count FROM conversations WHERE conversation_key = ?',
      [key],
    );
    return Number(row?.message_count ?? 0);
  }

  private get mysql(): boolean {
    return this.messages.manager.connection.options.type !== 'better-sqlite3';
  }

  /** Messages from a raw query over `messages` (all columns, and `total` when selected). */
  private async messageRows(
    sql: string,
    params: unknown[],
  ): Promise<(Message & { total: number })[]> {
    const raw = await this.messages.query<(RawMessage & { total?: number | string })[]>(
      sql,
      params,
    );
    return raw.map((r) => ({
      total: Number(r.total ?? 0),
      id: r.id,
      conversationKey: r.conversation_key,
      type: r.type,
      content: r.content,
      senderId: r.sender_id,
      receiverId: r.receiver_id,
      groupId: r.group_id,
      clientMsgId: r.client_msg_id,
      createdAt: fromSqlTime(r.created_at),
    }));
  }

  /**
   * `read_by` for a page in one query: the read marks of the conversation at or past the
   * page's oldest message; a message is read by every mark at or past it, sender excluded.
   */
  private async readBy(
    key: string,
    rows: Message[],
  ): Promise<(m: Message) => HistoryMessageDto['read_by']> {
    if (rows.length === 0) return () => [];
    const oldest = rows.reduce((min, r) => (r.id < min ? r.id : min), rows[0].id);
    const marks = await this.marks.query<
      { user_id: string; message_id: string; read_at: Date | string }[]
    >(
      'SELECT user_id, message_id, read_at FROM read_marks WHERE conversation_key = ? AND message_id >= ? ORDER BY read_at, user_id',
      [key, oldest],
    );
    return (message) =>
      marks
        .filter((mark) => mark.message_id >= message.id && mark.user_id !== message.senderId)
        .map((mark) => ({ user_id: mark.user_id, read_at: iso(fromSqlTime(mark.read_at))! }));
  }

  /** Moves the caller's read mark forward to `message_id` (never backwards). */
  async markRead(userId: string, dto: ReadDto, origin: Origin = {}): Promise<ReadMarkDto> {
    const target = await this.resolveTarget(userId, dto);
    const message = await this.messages.findOne({
      where: { id: dto.message_id, conversationKey: target.key },
      select: { id: true },
    });
    if (!message) throw AppException.notFound('message not found in this conversation');
    const readAt = now();
    const advance = () =>
      this.marks
        .createQueryBuilder()
        .update(ReadMark)
        .set({ messageId: message.id, readAt })
        .where('conversation_key = :key AND user_id = :userId AND message_id < :id', {
          key: target.key,
          userId,
          id: message.id,
        })
        .execute();
    let moved = Boolean((await advance()).affected);
    if (!moved && !(await this.marks.exists({ where: { conversationKey: target.key, userId } }))) {
      try {
        await this.marks.insert({
          conversationKey: target.key,
          userId,
          messageId: message.id,
          readAt,
        });
        moved = true;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        moved = Boolean((await advance()).affected);
      }
    }
    const mark = await this.marks.findOneByOrFail({ conversationKey: target.key, userId });
    const dtoOut: ReadMarkDto = {
      user_id: userId,
      receiver_id: target.receiverId,
      group_id: target.groupId,
      message_id: mark.messageId,
      read_at: iso(mark.readAt)!,
    };
    if (moved) {
      this.events.emit(ChatEvents.ReadMarkMoved, {
        mark: dtoOut,
        origin,
      } satisfies ReadMarkMovedEvent);
    }
    return dtoOut;
  }

  /**
   * My conversations, most recent activity first: private ones that have messages and every
   * group I belong to. Of my private conversations it reads only those that can reach the page
   * (on either side, those active in the seconds of the newest offset + limit, found on the
   * (user, active_second) index, then sorted by `updated_at`), plus my memberships; the page's
   * last messages, peers and groups are joined to the page alone, with the total (one row of
   * nulls when the page is empty). Then the page's unread counts: two statements, never a
   * whole history.
   */
  async conversations(userId: string, limit: number, offset: number): Promise<ConversationListDto> {
    const markJoin = `LEFT JOIN read_marks rm ON rm.conversation_key = c.conversation_key AND rm.user_id = ?`;
    const side = (column: 'user_a' | 'user_b', peer: 'user_a' | 'user_b') =>
      `SELECT * FROM (SELECT c.conversation_key, c.conversation_key AS sort_key, NULL AS member_group_id,
        NULL AS joined_at, c.${peer} AS peer_id, c.updated_at AS at, c.last_message_id, rm.message_id AS read_mark
        FROM conversations c ${markJoin}
        WHERE c.${column} = ? AND c.active_second >= COALESCE((SELECT active_second FROM conversations
          WHERE ${column} = ? ORDER BY active_second DESC LIMIT 1 OFFSET ?), 0)
        ORDER BY c.updated_at DESC, c.conversation_key DESC LIMIT ?) AS side_${column.slice(-1)}`;
    const groups = `SELECT c.conversation_key, CONCAT('g:', g.group_id) AS sort_key, g.group_id AS member_group_id,
        g.joined_at, NULL AS peer_id, COALESCE(c.updated_at, g.joined_at) AS at, c.last_message_id,
        rm.message_id AS read_mark
      FROM group_members g LEFT JOIN conversations c ON c.group_id = g.group_id ${markJoin}
      WHERE g.user_id = ?`;
    const take = offset + limit;
    const rows = await this.conversationRepo.query<ListRow[]>(
      `SELECT t.total, p.conversation_key, p.member_group_id, p.joined_at, p.peer_id, p.at, p.read_mark,
        lm.id AS lm_id, lm.type AS lm_type, lm.content AS lm_content, lm.sender_id AS lm_sender_id,
        lm.receiver_id AS lm_receiver_id, lm.group_id AS lm_group_id, lm.created_at AS lm_created_at,
        u.username AS peer_username, u.avatar AS peer_avatar, u.last_seen_at AS peer_last_seen_at,
        gr.name AS group_name, gr.avatar AS group_avatar
      FROM (SELECT (SELECT COUNT(*) FROM conversations WHERE user_a = ?)
          + (SELECT COUNT(*) FROM conversations WHERE user_b = ?)
          + (SELECT COUNT(*) FROM group_members WHERE user_id = ?) AS total) t
      LEFT JOIN (SELECT * FROM (${side('user_a', 'user_b')} UNION ALL ${side('user_b', 'user_a')} UNION ALL ${groups}) cand
        ORDER BY at DESC, sort_key DESC LIMIT ? OFFSET ?) p ON 1 = 1
      LEFT JOIN messages lm ON lm.id = p.last_message_id
      LEFT JOIN users u ON u.id = p.peer_id
      LEFT JOIN \`groups\` gr ON gr.id = p.member_group_id
      ORDER BY p.at DESC, p.sort_key DESC`,
      [
        ...[userId, userId, userId], // the total's three counts
        ...[userId, userId, userId, take - 1, take], // side a
        ...[userId, userId, userId, take - 1, take], // side b
        ...[userId, userId], // groups
        ...[limit, offset],
      ],
    );
    const page = rows.filter((r) => r.at !== null);
    const [unread, peers] = await Promise.all([
      this.unreadCounts(
        userId,
        page.flatMap((r) =>
          r.conversation_key
            ? [
                {
                  key: r.conversation_key,
                  since: r.joined_at ? fromSqlTime(r.joined_at) : undefined,
                  mark: r.read_mark,
                },
              ]
            : [],
        ),
      ),
      this.users.publicProfiles(
        page.flatMap((r) =>
          r.peer_id
            ? [
                {
                  id: r.peer_id,
                  username: r.peer_username!,
                  avatar: r.peer_avatar,
                  lastSeenAt: r.peer_last_seen_at ? fromSqlTime(r.peer_last_seen_at) : null,
                },
              ]
            : [],
        ),
      ),
    ]);
    return {
      conversations: page.map((r) => ({
        type: r.member_group_id ? 'group' : 'private',
        peer: r.peer_id ? (peers.get(r.peer_id) ?? null) : null,
        group: r.member_group_id
          ? { group_id: r.member_group_id, name: r.group_name!, avatar: r.group_avatar }
          : null,
        last_message: r.lm_id ? lastMessageDto(r) : null,
        unread_count: (r.conversation_key && unread.get(r.conversation_key)) || 0,
        updated_at: iso(fromSqlTime(r.at!))!,
      })),
      total: Number(rows[0]?.total ?? 0),
    };
  }

  /**
   * Messages from others after my read mark, per conversation, in one grouped query. Without a
   * mark, a group counts only what was sent since I joined (`since`).
   */
  private async unreadCounts(
    userId: string,
    conversations: { key: string; since?: Date; mark: string | null }[],
  ): Promise<Map<string, number>> {
    if (conversations.length === 0) return new Map();
    // One index range per conversation, from its bound: reads only the unread messages.
    const ranges = conversations.map(() => '(conversation_key = ? AND id > ?)').join(' OR ');
    const rows = await this.messages.query<{ conversation_key: string; n: string | number }[]>(
      `SELECT conversation_key, COUNT(*) AS n FROM messages WHERE (${ranges}) AND sender_id <> ? GROUP BY conversation_key`,
      [
        ...conversations.flatMap((c) => [c.key, c.mark ?? (c.since ? idFloor(c.since) : '')]),
        userId,
      ],
    );
    return new Map(rows.map((r) => [r.conversation_key, Number(r.n)]));
  }

  /**
   * Catch-up after being offline: every message of every conversation of mine newer than
   * `after`, oldest first, with the watermark for the next call.
   */
  async sync(userId: string, query: SyncQueryDto): Promise<SyncDto> {
    const start = Date.now();
    const after = query.after ?? '';
    // Ids follow commit order within a conversation, not across conversations: a message of
    // another conversation may still be committing with a smaller id. So a page stops at the
    // time of the request, and when it reaches into the last SYNC_SETTLE_MS it is read again
    // once those commits have landed. Newer messages reach the (connected) client live.
    const horizon = idFloor(new Date(start));
    // Only conversations with something newer than `after` can contribute; asked again on the
    // second read, since a conversation may have become active by a late commit meanwhile.
    // Private ones are looked up by their last activity, on the (user, active_second) indexes,
    // so the lookup reads the conversations active since the cursor, not all of the user's.
    const since = activeSecond(activeSince(after));
    const page = async () => {
      const active = await this.messages.query<ActiveConversation[]>(
        `SELECT conversation_key, message_count FROM conversations WHERE user_a = ? AND active_second >= ? AND last_message_id > ?
         UNION ALL SELECT conversation_key, message_count FROM conversations WHERE user_b = ? AND active_second >= ? AND last_message_id > ?
         UNION ALL SELECT c.conversation_key, c.message_count FROM conversations c JOIN group_members g ON g.group_id = c.group_id
           WHERE g.user_id = ? AND c.last_message_id > ?`,
        [userId, since, after, userId, since, after, userId, after],
      );
      return active.length ? this.syncPage(active, after, horizon, query.limit + 1) : [];
    };
    let rows = await page();
    const newest = rows[Math.min(rows.length, query.limit) - 1];
    if (newest && idTime(newest.id) > start - SYNC_SETTLE_MS) {
      await new Promise((r) => setTimeout(r, start + SYNC_SETTLE_MS - Date.now()));
      rows = await page();
    }
    const hasMore = rows.length > query.limit;
    if (hasMore) rows = rows.slice(0, query.limit);
    return {
      messages: rows.map(toMessageDto),
      has_more: hasMore,
      watermark: rows.length ? rows[rows.length - 1].id : (query.after ?? null),
    };
  }

  /**
   * The first `take` messages with after < id < horizon of the given conversations, oldest
   * first. On MySQL/MariaDB they come from the (conversation_key, id) index in parts, merged,
   * so the cost follows the page and the conversations, never the table:
   * - small conversations (their whole history fits in a page) share one IN-list range scan,
   *   which reads at most their message counts: one part instead of one each;
   * - each larger one reads its own range, at most `take` entries.
   * Up to SYNC_PARALLEL_PARTS parts read their rows at once and are merged here (at most
   * SYNC_PARALLEL_PARTS × `take` rows); more parts merge their ids in one statement that then
   * reads only the page's rows.
   */
  private async syncPage(
    active: ActiveConversation[],
    after: string,
    horizon: string,
    take: number,
  ): Promise<Message[]> {
    if (!this.mysql) {
      return this.messageRows(
        `SELECT * FROM messages WHERE conversation_key IN (${active.map(() => '?').join(', ')}) AND id > ? AND id < ? ORDER BY id LIMIT ?`,
        [...active.map((c) => c.conversation_key), after, horizon, take],
      );
    }
    const small: string[] = [];
    const large: string[] = [];
    let smallRows = 0;
    for (const c of [...active].sort((a, b) => Number(a.message_count) - Number(b.message_count))) {
      const count = Number(c.message_count);
      if (count <= take && smallRows + count <= SYNC_SHARED_SCAN_ROWS) {
        small.push(c.conversation_key);
        smallRows += count;
      } else {
        large.push(c.conversation_key);
      }
    }
    const range = (columns: string, keys: string[]) =>
      `SELECT ${columns} FROM messages FORCE INDEX (IDX_messages_conversation) WHERE conversation_key ${keys.length === 1 ? '= ?' : `IN (${keys.map(() => '?').join(', ')})`} AND id > ? AND id < ? ORDER BY id LIMIT ?`;
    const parts = [...(small.length ? [small] : []), ...large.map((key) => [key])];
    const params = (keys: string[]) => [...keys, after, horizon, take];
    if (parts.length <= SYNC_PARALLEL_PARTS) {
      // Few parts (the usual case: one busy conversation and the quiet ones): each reads its
      // rows straight from the index on a connection of its own, at the same time, and the
      // sorted pages are merged here. That reads at most SYNC_PARALLEL_PARTS × take rows, and
      // spares MariaDB a derived table, its sort and a join: about half the page's time.
      const pages = await Promise.all(
        parts.map((keys) => this.messageRows(range('*', keys), params(keys))),
      );
      return mergeById(pages, take);
    }
    // Many busy conversations: the merged ids, then only the page's rows, in one statement.
    return this.messageRows(
      `SELECT m.* FROM messages m JOIN (${parts.map((keys) => `(${range('id', keys)})`).join(' UNION ALL ')} ORDER BY id LIMIT ?) page ON page.id = m.id ORDER BY m.id`,
      [...parts.flatMap(params), take],
    );
  }

  /** A deleted group's history is readable by nobody: remove it with its counters and marks. */
  @OnEvent(GroupEvents.Deleted, { async: true })
  async purgeGroup(event: GroupDeletedEvent): Promise<void> {
    const key = groupKey(event.groupId);
    try {
      await this.tx.run(async (m) => {
        await m.delete(ReadMark, { conversationKey: key });
        await m.delete(Message, { conversationKey: key });
        await m.delete(Conversation, { key });
      });
    } catch (err) {
      this.logger.error({ err, groupId: event.groupId }, 'could not purge a deleted group');
    }
  }

  /** The users someone has a private conversation with (presence goes to them). */
  async privatePeers(userId: string): Promise<string[]> {
    const [asA, asB] = await Promise.all([
      this.conversationRepo.find({ where: { userA: userId }, select: { key: true, userB: true } }),
      this.conversationRepo.find({ where: { userB: userId }, select: { key: true, userA: true } }),
    ]);
    return [...asA.map((c) => c.userB!), ...asB.map((c) => c.userA!)];
  }
}

/** How long a message transaction may take to commit after its id was taken. */
const SYNC_SETTLE_MS = 1000;
/** Sync: at most this many index entries are read by the scan shared by small conversations. */
const SYNC_SHARED_SCAN_ROWS = 20_000;

/** Up to this many parts, a sync page's parts are read in parallel and merged in the process. */
const SYNC_PARALLEL_PARTS = 2;

/**
 * The first `take` rows of a sync page's parts, in id order. A message belongs to one
 * conversation, so no id is in two parts; at most SYNC_PARALLEL_PARTS × take rows are sorted.
 */
function mergeById<T extends { id: string }>(pages: T[][], take: number): T[] {
  if (pages.length === 1) return pages[0].slice(0, take);
  return pages
    .flat()
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .slice(0, take);
}

/**
 * A conversation's `updated_at` is when the writer began its newest batch; that batch's ids
 * can run ahead of it by a little (taken again after a slow lock, or above an id from an
 * instance whose clock is ahead), by seconds at most. Sync allows an hour.
 */
const ACTIVITY_SLACK_MS = 60 * 60 * 1000;

/**
 * The earliest `updated_at` of a conversation holding a message id greater than `after`: ids
 * begin with their time, so a greater id is no older than `after`'s time (capped at now).
 */
function activeSince(after: string): number {
  const at = after ? idTime(after) : 0;
  return Math.max(0, (Number.isFinite(at) ? Math.min(at, Date.now()) : 0) - ACTIVITY_SLACK_MS);
}

/** A row of the conversation list's statement (all null but total when the page is empty). */
interface ListRow {
  total: number | string;
  conversation_key: string | null;
  member_group_id: string | null;
  joined_at: Date | string | null;
  peer_id: string | null;
  at: Date | string | null;
  read_mark: string | null;
  lm_id: string | null;
  lm_type: Message['type'];
  lm_content: string;
  lm_sender_id: string;
  lm_receiver_id: string | null;
  lm_group_id: string | null;
  lm_created_at: Date | string;
  peer_username: string | null;
  peer_avatar: string | null;
  peer_last_seen_at: Date | string | null;
  group_name: string | null;
  group_avatar: string | null;
}

function lastMessageDto(row: ListRow): MessageDto {
  return toMessageDto({
    id: row.lm_id!,
    type: row.lm_type,
    content: row.lm_content,
    senderId: row.lm_sender_id,
    receiverId: row.lm_receiver_id,
    groupId: row.lm_group_id,
    createdAt: fromSqlTime(row.lm_created_at),
  });
}

/** A conversation with messages after a sync cursor, and its size. */
interface ActiveConversation {
  conversation_key: string;
  message_count: number | string;
}

export function toMessageDto(
  m: Pick<Message, 'id' | 'type' | 'content' | 'senderId' | 'receiverId' | 'groupId' | 'createdAt'>,
): MessageDto {
  return {
    message_id: m.id,
    type: m.type,
    content: m.content,
    sender_id: m.senderId,
    receiver_id: m.receiverId,
    group_id: m.groupId,
    created_at: iso(m.createdAt)!,
  };
}
