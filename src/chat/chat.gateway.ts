import { BeforeApplicationShutdown, Inject, Logger, UseFilters, UsePipes } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AuthEvents, PasswordChangedEvent, TokenRevokedEvent } from '../auth/auth.events';
import { AuthService } from '../auth/auth.service';
import { AppException } from '../common/errors/app.exception';
import { resolveError } from '../common/errors/error-body';
import { ErrorCode } from '../common/errors/error-code';
import { Envelope, envelope } from '../common/http/envelope';
import { createValidationPipe } from '../common/http/validation';
import { iso, now } from '../common/utils/time';
import { coalescing } from '../common/ws/coalesce-writes';
import { WsExceptionFilter } from '../common/ws/ws-exception.filter';
import { chatConfig, ChatConfig } from '../config/chat.config';
import {
  GroupDeletedEvent,
  GroupEvents,
  GroupMemberAddedEvent,
  GroupMemberRemovedEvent,
  GroupUpdatedEvent,
} from '../groups/group.events';
import { GroupsService } from '../groups/groups.service';
import { PresenceService } from '../users/presence.service';
import { UsersService } from '../users/users.service';
import { ChatEvents, MessageCreatedEvent, ReadMarkMovedEvent } from './chat.events';
import { ChatService } from './chat.service';
import { groupRoom, ServerToClientEvents, SocketData, userRoom } from './chat.socket-events';
import { ReadDto, SendMessageDto, TypingDto } from './dto/chat-requests.dto';
import { MessageDto, ReadMarkDto } from './dto/chat-responses.dto';

type ChatServer = Server<
  Record<string, never>,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
type ChatSocket = Socket<
  Record<string, never>,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Shutdown: how long the sockets get to close and record their disconnects. */
const SHUTDOWN_WAIT_MS = 5000;
const KNOWN_EVENTS = new Set(['message:send', 'message:read', 'typing']);

/** The token of a handshake: `Authorization: Bearer`, else `auth.token`, else `?token=`. */
export function handshakeToken(handshake: Socket['handshake']): string | undefined {
  const header = handshake.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+\S+/i.test(header))
    return header.replace(/^Bearer\s+/i, '').trim();
  const auth = (handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof auth === 'string' && auth) return auth.replace(/^Bearer\s+/i, '');
  const query = handshake.query.token;
  if (typeof query === 'string' && query) return query;
  return undefined;
}

/**
 * Socket.IO at /api/v1/ws. The handshake is authenticated by middleware (before any handler)
 * with the HTTP guard's token check; each socket joins `user:<id>` and `group:<id>` rooms and
 * follows membership changes live. Handlers call the same service methods as REST and answer
 * through the ack callback with the REST envelope.
 */
@WebSocketGateway({ path: '/api/v1/ws', serveClient: false })
@UsePipes(createValidationPipe())
@UseFilters(WsExceptionFilter)
export class ChatGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown
{
  @WebSocketServer() server: ChatServer;
  private readonly logger = new Logger(ChatGateway.name);
  /** Per-socket state that must not travel with socket.data (timers are not JSON). */
  private readonly expiryTimers = new WeakMap<ChatSocket, NodeJS.Timeout>();
  /** Disconnects still recording last_seen_at and announcing presence (awaited at shutdown). */
  private readonly disconnecting = new Set<Promise<void>>();
  private readonly typingWindows = new WeakMap<
    ChatSocket,
    { windowStart: number; count: number }
  >();

  constructor(
    private readonly auth: AuthService,
    private readonly chat: ChatService,
    private readonly groups: GroupsService,
    private readonly users: UsersService,
    private readonly presence: PresenceService,
    @Inject(chatConfig.KEY) private readonly config: ChatConfig,
  ) {}

  /**
   * Shutdown: close this instance's connections cleanly (a WebSocket close, not a reset). It is
   * a transport close, so clients reconnect by themselves, to another instance.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    const closed = (await this.server.local.fetchSockets()).map((socket) => {
      const conn = (socket as unknown as ChatSocket).conn;
      if (!conn || conn.readyState === 'closed') return Promise.resolve();
      return new Promise<void>((resolve) => {
        conn.once('close', () => resolve());
        conn.close();
      });
    });
    // Their disconnects record last_seen_at: wait for that while the database is still open
    // (it closes after this hook). A WebSocket closes at once; one with frames still queued
    // (a slow reader) closes once they are written. All of it within SHUTDOWN_WAIT_MS, so a
    // stalled database or client cannot hold the shutdown (and the writer's drain after it).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed).then(() => Promise.all(this.disconnecting)),
      new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  afterInit(server: ChatServer): void {
    server.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (err: unknown) => {
          const { body } = resolveError(err);
          const error = new Error(body.message) as Error & { data?: unknown };
          error.data = body;
          next(error);
        },
      );
    });
  }

  private async authenticate(socket: ChatSocket): Promise<void> {
    const token = handshakeToken(socket.handshake);
    if (!token) throw AppException.unauthorized('missing token');
    const user = await this.auth.verifyAccessToken(token);
    socket.data.user = user;
    socket.data.groupIds = await this.groups.groupIdsOf(user.id);
  }

  handleConnection(socket: ChatSocket): void {
    try {
      const { user, groupIds } = socket.data;
      void socket.join([userRoom(user.id), ...groupIds.map(groupRoom)]);
      void this.reconcileGroupRooms(socket);
      const ttl = user.exp * 1000 - Date.now();
      this.answerUnknownEvents(socket);
      const timer = setTimeout(
        () => this.endSession(socket, 'token expired'),
        Math.max(0, Math.min(ttl, MAX_TIMER_MS)),
      );
      timer.unref();
      this.expiryTimers.set(socket, timer);
      void this.presence
        .connected(user.id)
        .then((first) => (first ? this.announcePresence(user.id, true, null) : undefined));
    } catch (err) {
      this.logger.error({ err }, 'socket connection setup failed');
      socket.disconnect(true);
    }
  }

  /**
   * Membership may have changed between the handshake (which read the groups) and the join:
   * now that the socket is in its user room and follows membership events, re-read and fix.
   */
  private async reconcileGroupRooms(socket: ChatSocket): Promise<void> {
    try {
      const current = new Set((await this.groups.groupIdsOf(socket.data.user.id)).map(groupRoom));
      for (const room of socket.rooms) {
        if (room.startsWith('group:') && !current.has(room)) void socket.leave(room);
      }
      void socket.join([...current]);
    } catch (err) {
      this.logger.warn({ err }, 'could not re-check group rooms');
    }
  }

  handleDisconnect(socket: ChatSocket): void {
    const user = socket.data?.user;
    clearTimeout(this.expiryTimers.get(socket));
    if (!user) return;
    const done = this.presence
      .disconnected(user.id)
      .then(async (last) => {
        if (!last) return;
        const at = now();
        await this.users
          .setLastSeen(user.id, at)
          .catch((err: unknown) => this.logger.warn({ err }, 'could not record last_seen_at'));
        // A quick reconnect (a page reload) may have brought the user back meanwhile.
        if (await this.presence.isOnline(user.id)) return;
        await this.announcePresence(user.id, false, at);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'could not record a disconnect'))
      .finally(() => this.disconnecting.delete(done));
    this.disconnecting.add(done);
  }

  @SubscribeMessage('message:send')
  async send(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() dto: SendMessageDto,
  ): Promise<Envelope<MessageDto>> {
    return envelope(await this.chat.send(socket.data.user.id, dto, { socketId: socket.id }));
  }

  @SubscribeMessage('message:read')
  async read(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() dto: ReadDto,
  ): Promise<Envelope<ReadMarkDto>> {
    return envelope(await this.chat.markRead(socket.data.user.id, dto, { socketId: socket.id }));
  }

  /** Relayed to the peer or the group, never stored; limited per socket. */
  @SubscribeMessage('typing')
  async typing(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() dto: TypingDto,
  ): Promise<Envelope<null>> {
    const userId = socket.data.user.id;
    this.limitTyping(socket);
    if (dto.group_id) {
      if (!socket.rooms.has(groupRoom(dto.group_id)))
        throw AppException.forbidden('not a member of this group');
      this.server
        .to(groupRoom(dto.group_id))
        .except(userRoom(userId))
        .emit('typing', { user_id: userId, receiver_id: null, group_id: dto.group_id });
    } else {
      const receiverId = dto.receiver_id!;
      if (receiverId === userId) throw AppException.badRequest('receiver_id cannot be yourself');
      if (!(await this.users.exists(receiverId))) throw AppException.notFound('user not found');
      this.server
        .to(userRoom(receiverId))
        .emit('typing', { user_id: userId, receiver_id: receiverId, group_id: null });
    }
    return envelope(null);
  }

  private limitTyping(socket: ChatSocket): void {
    const nowMs = Date.now();
    const state = this.typingWindows.get(socket);
    if (!state || nowMs - state.windowStart >= this.config.typingWindowMs) {
      this.typingWindows.set(socket, { windowStart: nowMs, count: 1 });
      return;
    }
    state.count += 1;
    if (state.count > this.config.typingPerWindow) {
      throw new AppException(ErrorCode.TooManyRequests, 'too many typing events, slow down');
    }
  }

  @OnEvent(ChatEvents.MessageCreated)
  onMessage({ message, origin }: MessageCreatedEvent): void {
    this.safely('message:new', () => {
      const rooms = message.group_id
        ? [groupRoom(message.group_id)]
        : [userRoom(message.sender_id), userRoom(message.receiver_id!)];
      const target = this.server.to(rooms);
      const send = () =>
        (origin.socketId ? target.except(origin.socketId) : target).emit('message:new', message);
      // A group's fan-out is coalesced under load; a private message goes out at once.
      if (message.group_id) coalescing(send);
      else send();
    });
  }

  @OnEvent(ChatEvents.ReadMarkMoved)
  onRead({ mark, origin }: ReadMarkMovedEvent): void {
    this.safely('message:read', () => {
      const rooms = mark.group_id
        ? [groupRoom(mark.group_id)]
        : [userRoom(mark.user_id), userRoom(mark.receiver_id!)];
      const target = this.server.to(rooms);
      (origin.socketId ? target.except(origin.socketId) : target).emit('message:read', mark);
    });
  }

  @OnEvent(GroupEvents.MemberAdded)
  onMemberAdded(event: GroupMemberAddedEvent): void {
    this.safely('group:member_added', () => {
      const room = groupRoom(event.groupId);
      // Local sockets at once (also while Redis is down), the other instances through the adapter.
      this.server.local.in(event.userIds.map(userRoom)).socketsJoin(room);
      this.server.in(event.userIds.map(userRoom)).socketsJoin(room);
      for (const userId of event.userIds) {
        this.server.to(room).emit('group:member_added', {
          group_id: event.groupId,
          user_id: userId,
          actor_id: event.actorId,
        });
      }
    });
  }

  @OnEvent(GroupEvents.MemberRemoved)
  onMemberRemoved(event: GroupMemberRemovedEvent): void {
    this.safely('group:member_removed', () => {
      const room = groupRoom(event.groupId);
      this.server.to([room, userRoom(event.userId)]).emit('group:member_removed', {
        group_id: event.groupId,
        user_id: event.userId,
        actor_id: event.actorId,
        reason: event.reason,
      });
      this.server.local.in(userRoom(event.userId)).socketsLeave(room);
      this.server.in(userRoom(event.userId)).socketsLeave(room);
    });
  }

  @OnEvent(GroupEvents.Updated)
  onGroupUpdated(event: GroupUpdatedEvent): void {
    this.safely('group:updated', () => {
      const { roles, ...details } = event.changes;
      this.server.to(groupRoom(event.groupId)).emit('group:updated', {
        group_id: event.groupId,
        actor_id: event.actorId,
        ...details,
        ...(roles ? { roles: roles.map((r) => ({ user_id: r.userId, role: r.role })) } : {}),
      });
    });
  }

  @OnEvent(GroupEvents.Deleted)
  onGroupDeleted(event: GroupDeletedEvent): void {
    this.safely('group:deleted', () => {
      const room = groupRoom(event.groupId);
      this.server
        .to([room, ...event.memberIds.map(userRoom)])
        .emit('group:deleted', { group_id: event.groupId, actor_id: event.actorId });
      this.server.local.in(room).socketsLeave(room);
      this.server.in(room).socketsLeave(room);
    });
  }

  @OnEvent(AuthEvents.TokenRevoked)
  async onTokenRevoked(event: TokenRevokedEvent): Promise<void> {
    await this.disconnectWhere(event.userId, (user) => user.jti === event.jti, 'token revoked');
  }

  @OnEvent(AuthEvents.PasswordChanged)
  async onPasswordChanged(event: PasswordChangedEvent): Promise<void> {
    await this.disconnectWhere(
      event.userId,
      (user) => user.tokenVersion < event.tokenVersion,
      'token revoked',
    );
  }

  /** Says why before closing: an `exception` with the 401 body, then the disconnect. */
  private endSession(
    socket: { emit: ChatSocket['emit']; disconnect: (close?: boolean) => unknown },
    reason: string,
  ): void {
    socket.emit('exception', { code: 401, message: '未授权或 token 无效', error: reason });
    socket.disconnect(true);
  }

  /** An event this server does not know is answered (404 ack) rather than left hanging. */
  private answerUnknownEvents(socket: ChatSocket): void {
    socket.onAny((event: string, ...args: unknown[]) => {
      if (KNOWN_EVENTS.has(event)) return;
      const ack = args[args.length - 1];
      const body = { code: 404, message: '资源不存在', error: `unknown event ${event}` };
      if (typeof ack === 'function') (ack as (reply: unknown) => void)(body);
      else socket.emit('exception', body);
    });
  }

  private async disconnectWhere(
    userId: string,
    dead: (user: SocketData['user']) => boolean,
    reason: string,
  ): Promise<void> {
    // This instance's sockets first and always; the other instances through the adapter.
    for (const socket of await this.server.local.in(userRoom(userId)).fetchSockets()) {
      if (dead(socket.data.user)) this.endSession(socket, reason);
    }
    try {
      const sockets = await this.server.in(userRoom(userId)).fetchSockets();
      for (const socket of sockets) if (dead(socket.data.user)) this.endSession(socket, reason);
    } catch (err) {
      this.logger.warn({ err }, 'could not reach other instances to close revoked sockets');
    }
  }

  /** Tells users who share a conversation with `userId` that they came online or went offline. */
  private async announcePresence(
    userId: string,
    online: boolean,
    lastSeen: Date | null,
  ): Promise<void> {
    try {
      const [peers, groupIds] = await Promise.all([
        this.chat.privatePeers(userId),
        this.groups.groupIdsOf(userId),
      ]);
      const rooms = [...peers.map(userRoom), ...groupIds.map(groupRoom)];
      if (rooms.length === 0) return;
      this.server
        .to(rooms)
        .except(userRoom(userId))
        .emit('presence', { user_id: userId, online, last_seen_at: iso(lastSeen) });
    } catch (err) {
      this.logger.warn({ err }, 'could not announce presence');
    }
  }

  private safely(what: string, fanOut: () => void): void {
    try {
      fanOut();
    } catch (err) {
      this.logger.error({ err }, `fan-out of ${what} failed`);
    }
  }
}
