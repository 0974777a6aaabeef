import type { GroupRole } from './group-member.entity';

/**
 * Domain events of the groups module, published after the change is committed. The socket
 * gateway listens to move sockets between rooms and tell members; this module knows nothing
 * of sockets.
 */
export const GroupEvents = {
  MemberAdded: 'group.member_added',
  MemberRemoved: 'group.member_removed',
  Updated: 'group.updated',
  Deleted: 'group.deleted',
} as const;

export interface GroupMemberAddedEvent {
  groupId: string;
  userIds: string[];
  actorId: string;
}

export interface GroupMemberRemovedEvent {
  groupId: string;
  userId: string;
  actorId: string;
  reason: 'removed' | 'left';
}

export interface GroupUpdatedEvent {
  groupId: string;
  actorId: string;
  /** What changed: group details, or a member's role (also an ownership hand-over). */
  changes: {
    name?: string;
    description?: string;
    avatar?: string | null;
    roles?: { userId: string; role: GroupRole }[];
  };
}

export interface GroupDeletedEvent {
  groupId: string;
  actorId: string;
  /** The members at the time of deletion, who must be told and leave the room. */
  memberIds: string[];
}
