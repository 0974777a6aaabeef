import type { AuthUser } from '../auth/auth-user';
import type { ErrorBody } from '../common/errors/error-body';
import type { Envelope } from '../common/http/envelope';
import type { GroupRole } from '../groups/group-member.entity';
import type { MessageDto, ReadMarkDto } from './dto/chat-responses.dto';

export type Ack<T> = (reply: Envelope<T> | ErrorBody) => void;

/** Events the server sends (CONTRACT §4.1). */
export interface ServerToClientEvents {
  'message:new': (message: MessageDto) => void;
  'message:read': (mark: ReadMarkDto) => void;
  typing: (event: { user_id: string; receiver_id: string | null; group_id: string | null }) => void;
  presence: (event: { user_id: string; online: boolean; last_seen_at: string | null }) => void;
  'group:member_added': (event: { group_id: string; user_id: string; actor_id: string }) => void;
  'group:member_removed': (event: {
    group_id: string;
    user_id: string;
    actor_id: string;
    reason: 'removed' | 'left';
  }) => void;
  'group:updated': (event: {
    group_id: string;
    actor_id: string;
    name?: string;
    description?: string;
    avatar?: string | null;
    roles?: { user_id: string; role: GroupRole }[];
  }) => void;
  'group:deleted': (event: { group_id: string; actor_id: string }) => void;
  exception: (error: ErrorBody) => void;
}

/**
 * What a connected socket carries, set by the handshake middleware. Plain JSON only: with the
 * Redis adapter it is sent to other instances (`fetchSockets`).
 */
export interface SocketData {
  user: AuthUser;
  groupIds: string[];
}

export const userRoom = (userId: string) => `user:${userId}`;
export const groupRoom = (groupId: string) => `group:${groupId}`;
