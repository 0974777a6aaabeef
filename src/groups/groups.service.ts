import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { iso, now } from '../common/utils/time';
import { groupsConfig, GroupsConfig } from '../config/groups.config';
import { TransactionRunner } from '../database/transaction-runner';
import { TtlCache } from '../common/cache/ttl-cache';
import { InvalidationBus } from '../redis/invalidation-bus';
import { User } from '../users/user.entity';
import { CreateGroupDto, UpdateGroupDto } from './dto/group-requests.dto';
import {
  AddedMembersDto,
  GroupDetailDto,
  GroupDto,
  GroupListDto,
  GroupMemberPageDto,
  MemberRoleDto,
} from './dto/group-responses.dto';
import { GroupMember, GroupRole } from './group-member.entity';
import { Group } from './group.entity';
import {
  GroupDeletedEvent,
  GroupEvents,
  GroupMemberAddedEvent,
  GroupMemberRemovedEvent,
  GroupUpdatedEvent,
} from './group.events';

type PendingEvent = [string, object];

/** How long a membership is trusted without asking the database (changes invalidate at once). */
const MEMBERSHIP_TTL_MS = 10_000;

function membershipKey(groupId: string, userId: string): string {
  return `${groupId}|${userId}`;
}

const MANAGERS: readonly GroupRole[] = ['owner', 'admin'];

@Injectable()
export class GroupsService {
  constructor(
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    @InjectRepository(GroupMember) private readonly members: Repository<GroupMember>,
    private readonly tx: TransactionRunner,
    private readonly events: EventEmitter2,
    @Inject(groupsConfig.KEY) private readonly config: GroupsConfig,
    private readonly bus: InvalidationBus,
  ) {
    this.memberships = new TtlCache<GroupRole>(MEMBERSHIP_TTL_MS, 100_000, () => bus.live);
    bus.on('groups.membership', (key) => this.memberships.delete(key));
    bus.on('groups.group', (groupId) =>
      this.memberships.deleteWhere((key) => key.startsWith(`${groupId}|`)),
    );
    bus.onReset(() => this.memberships.clear());
  }

  /** Roles of members, by membershipKey; only memberships are cached, not refusals. */
  private readonly memberships: TtlCache<GroupRole>;

  /** The role of a user in a group, or null: one primary-key lookup. */
  async roleOf(groupId: string, userId: string): Promise<GroupRole | null> {
    const row = await this.members.findOne({
      where: { groupId, userId },
      select: { role: true },
    });
    return row?.role ?? null;
  }

  /** The ids of a group's members (for fan-out). */
  async memberIds(groupId: string): Promise<string[]> {
    const rows = await this.members.find({ where: { groupId }, select: { userId: true } });
    return rows.map((r) => r.userId);
  }

  /** The ids of the groups a user belongs to (for joining socket rooms). */
  async groupIdsOf(userId: string): Promise<string[]> {
    const rows = await this.members.find({ where: { userId }, select: { groupId: true } });
    return rows.map((r) => r.groupId);
  }

  /**
   * The caller's role; 404 when the group does not exist, 403 when not a member. Asked on every
   * group message and history page, so memberships are cached; removals, role changes and
   * deletions invalidate them on every instance.
   */
  async requireMember(groupId: string, userId: string): Promise<GroupRole> {
    const role = await this.memberships.getOrLoad(membershipKey(groupId, userId), () =>
      this.requireRole(this.members.manager, groupId, userId),
    );
    return role!;
  }

  async create(userId: string, dto: CreateGroupDto): Promise<GroupDto> {
    const at = now();
    const group: Group = {
      id: randomUUID(),
      name: dto.name,
      description: dto.description,
      avatar: dto.avatar ?? null,
      creatorId: userId,
      createdAt: at,
      updatedAt: at,
    };
    await this.tx.run(async (m) => {
      await m.insert(Group, group);
      await m.insert(GroupMember, { groupId: group.id, userId, role: 'owner', joinedAt: at });
    });
    await this.publish([
      [
        GroupEvents.MemberAdded,
        { groupId: group.id, userIds: [userId], actorId: userId } satisfies GroupMemberAddedEvent,
      ],
    ]);
    return toGroupDto(group);
  }

  async listMine(userId: string): Promise<GroupListDto> {
    const rows = await this.members
      .createQueryBuilder('m')
      .innerJoinAndMapOne('m.group', Group, 'g', 'g.id = m.groupId')
      .where('m.userId = :userId', { userId })
      .orderBy('m.joinedAt', 'DESC')
      .addOrderBy('m.groupId', 'ASC')
      .getMany();
    const counts = await this.countMembers(rows.map((r) => r.groupId));
    return {
      groups: rows.map((r) => {
        const group = (r as GroupMember & { group: Group }).group;
        return { ...toGroupDto(group), member_count: counts.get(r.groupId) ?? 0, my_role: r.role };
      }),
    };
  }

  async getDetail(userId: string, groupId: string): Promise<GroupDetailDto> {
    const role = await this.requireRole(this.members.manager, groupId, userId);
    const group = await this.groups.findOneByOrFail({ id: groupId });
    const counts = await this.countMembers([groupId]);
    return { ...toGroupDto(group), member_count: counts.get(groupId) ?? 0, my_role: role };
  }

  async update(userId: string, groupId: string, dto: UpdateGroupDto): Promise<GroupDetailDto> {
    const changes: GroupUpdatedEvent['changes'] = {};
    const result = await this.tx.run(async (m) => {
      const group = await this.lockGroup(m, groupId);
      const role = await this.requireRole(m, groupId, userId, MANAGERS);
      if (dto.name !== undefined && dto.name !== group.name) changes.name = dto.name;
      if (dto.description !== undefined && dto.description !== group.description) {
        changes.description = dto.description;
      }
      if (dto.avatar !== undefined && dto.avatar !== group.avatar) changes.avatar = dto.avatar;
      if (Object.keys(changes).length > 0) {
        group.updatedAt = now();
        Object.assign(group, changes);
        await m.update(Group, { id: groupId }, { ...changes, updatedAt: group.updatedAt });
      }
      const counts = await this.countMembers([groupId], m);
      return { ...toGroupDto(group), member_count: counts.get(groupId) ?? 0, my_role: role };
    });
    if (Object.keys(changes).length > 0) {
      await this.publish([
        [GroupEvents.Updated, { groupId, actorId: userId, changes } satisfies GroupUpdatedEvent],
      ]);
    }
    return result;
  }

  async remove(userId: string, groupId: string): Promise<null> {
    const memberIds = await this.tx.run(async (m) => {
      await this.lockGroup(m, groupId);
      await this.requireRole(m, groupId, userId, ['owner']);
      return this.deleteGroup(m, groupId);
    });
    await this.publish([
      [GroupEvents.Deleted, { groupId, actorId: userId, memberIds } satisfies GroupDeletedEvent],
    ]);
    return null;
  }

  async listMembers(
    userId: string,
    groupId: string,
    limit: number,
    offset: number,
  ): Promise<GroupMemberPageDto> {
    await this.requireRole(this.members.manager, groupId, userId);
    const [rows, total] = await Promise.all([
      this.members
        .createQueryBuilder('m')
        .innerJoinAndMapOne('m.user', User, 'u', 'u.id = m.userId')
        .where('m.groupId = :groupId', { groupId })
        .orderBy('m.joinedAt', 'ASC')
        .addOrderBy('m.userId', 'ASC')
        .limit(limit)
        .offset(offset)
        .getMany(),
      this.members.count({ where: { groupId } }),
    ]);
    return {
      members: rows.map((r) => {
        const user = (r as GroupMember & { user: User }).user;
        return {
          user_id: r.userId,
          username: user.username,
          avatar: user.avatar,
          role: r.role,
          joined_at: iso(r.joinedAt)!,
        };
      }),
      total,
    };
  }

  /** Adds users (idempotent: members already in are skipped); unknown ids add nobody. */
  async addMembers(actorId: string, groupId: string, userIds: string[]): Promise<AddedMembersDto> {
    const result = await this.tx.run(async (m) => {
      await this.lockGroup(m, groupId);
      await this.requireRole(m, groupId, actorId, MANAGERS);
      const found = await m.find(User, { where: { id: In(userIds) }, select: { id: true } });
      if (found.length !== userIds.length) {
        const known = new Set(found.map((u) => u.id));
        const missing = userIds.filter((id) => !known.has(id));
        throw AppException.notFound(`users not found: ${missing.join(', ')}`);
      }
      const existing = await m.find(GroupMember, {
        where: { groupId, userId: In(userIds) },
        select: { userId: true },
      });
      const already = new Set(existing.map((e) => e.userId));
      const added = userIds.filter((id) => !already.has(id));
      const count = await m.count(GroupMember, { where: { groupId } });
      if (count + added.length > this.config.maxMembers) {
        throw AppException.badRequest(
          `a group has at most ${this.config.maxMembers} members (it has ${count}, adding ${added.length})`,
        );
      }
      if (added.length > 0) {
        const joinedAt = now();
        await m
          .createQueryBuilder()
          .insert()
          .into(GroupMember)
          .values(added.map((userId) => ({ groupId, userId, role: 'member' as const, joinedAt })))
          .orIgnore()
          .execute();
      }
      return { group_id: groupId, added_user_ids: added, member_count: count + added.length };
    });
    if (result.added_user_ids.length > 0) {
      await this.publish([
        [
          GroupEvents.MemberAdded,
          { groupId, userIds: result.added_user_ids, actorId } satisfies GroupMemberAddedEvent,
        ],
      ]);
    }
    return result;
  }

  /** Owner removes anyone but themself; an admin removes plain members. */
  async removeMember(actorId: string, groupId: string, targetId: string): Promise<null> {
    await this.tx.run(async (m) => {
      await this.lockGroup(m, groupId);
      const actorRole = await this.requireRole(m, groupId, actorId, MANAGERS);
      if (targetId === actorId) {
        throw AppException.badRequest('to leave a group use POST /group/:group_id/leave');
      }
      const target = await m.findOne(GroupMember, { where: { groupId, userId: targetId } });
      if (!target) throw AppException.notFound('user is not a member of this group');
      if (target.role === 'owner') throw AppException.forbidden('the owner cannot be removed');
      if (target.role === 'admin' && actorRole !== 'owner') {
        throw AppException.forbidden('only the owner can remove an admin');
      }
      await m.delete(GroupMember, { groupId, userId: targetId });
    });
    await this.publish([
      [
        GroupEvents.MemberRemoved,
        { groupId, userId: targetId, actorId, reason: 'removed' } satisfies GroupMemberRemovedEvent,
      ],
    ]);
    return null;
  }

  /**
   * Leaves a group. An owner leaving hands ownership to the oldest admin, else the oldest
   * member; the last member leaving deletes the group.
   */
  async leave(userId: string, groupId: string): Promise<null> {
    const events = await this.tx.run(async (m) => {
      await this.lockGroup(m, groupId);
      const role = await this.requireRole(m, groupId, userId);
      await m.delete(GroupMember, { groupId, userId });
      const pending: PendingEvent[] = [
        [
          GroupEvents.MemberRemoved,
          { groupId, userId, actorId: userId, reason: 'left' } satisfies GroupMemberRemovedEvent,
        ],
      ];
      const remaining = await m.count(GroupMember, { where: { groupId } });
      if (remaining === 0) {
        await this.deleteGroup(m, groupId);
        pending.push([
          GroupEvents.Deleted,
          { groupId, actorId: userId, memberIds: [] } satisfies GroupDeletedEvent,
        ]);
      } else if (role === 'owner') {
        const heir =
          (await this.oldest(m, groupId, 'admin')) ?? (await this.oldest(m, groupId, 'member'));
        if (!heir) throw new Error(`group ${groupId} has members but no heir`);
        await m.update(GroupMember, { groupId, userId: heir.userId }, { role: 'owner' });
        pending.push([
          GroupEvents.Updated,
          {
            groupId,
            actorId: userId,
            changes: { roles: [{ userId: heir.userId, role: 'owner' }] },
          } satisfies GroupUpdatedEvent,
        ]);
      }
      return pending;
    });
    await this.publish(events);
    return null;
  }

  /** Only the owner changes roles, and not their own. */
  async changeRole(
    actorId: string,
    groupId: string,
    targetId: string,
    role: 'admin' | 'member',
  ): Promise<MemberRoleDto> {
    const changed = await this.tx.run(async (m) => {
      await this.lockGroup(m, groupId);
      await this.requireRole(m, groupId, actorId, ['owner']);
      if (targetId === actorId) {
        throw AppException.badRequest('the owner cannot change their own role');
      }
      const target = await m.findOne(GroupMember, { where: { groupId, userId: targetId } });
      if (!target) throw AppException.notFound('user is not a member of this group');
      if (target.role === role) return false;
      await m.update(GroupMember, { groupId, userId: targetId }, { role });
      return true;
    });
    if (changed) {
      await this.publish([
        [
          GroupEvents.Updated,
          {
            groupId,
            actorId,
            changes: { roles: [{ userId: targetId, role }] },
          } satisfies GroupUpdatedEvent,
        ],
      ]);
    }
    return { group_id: groupId, user_id: targetId, role };
  }

  /**
   * The caller's role in the group; 404 when the group does not exist, 403 when the caller is
   * not a member or lacks one of `allowed`.
   */
  private async requireRole(
    m: EntityManager,
    groupId: string,
    userId: string,
    allowed?: readonly GroupRole[],
  ): Promise<GroupRole> {
    const membership = await m.findOne(GroupMember, {
      where: { groupId, userId },
      select: { role: true },
    });
    if (!membership) {
      const exists = await m.exists(Group, { where: { id: groupId } });
      if (!exists) throw AppException.notFound('group not found');
      throw AppException.forbidden('not a member of this group');
    }
    if (allowed && !allowed.includes(membership.role)) {
      throw AppException.forbidden(
        allowed.length === 1
          ? `only the group ${allowed[0]} can do this`
          : 'only the group owner or an admin can do this',
      );
    }
    return membership.role;
  }

  /** Locks the group row for the transaction (serialises membership changes); 404 if absent. */
  private async lockGroup(m: EntityManager, groupId: string): Promise<Group> {
    const query = m.createQueryBuilder(Group, 'g').where('g.id = :groupId', { groupId });
    if (this.tx.rowLocks) query.setLock('pessimistic_write');
    const group = await query.getOne();
    if (!group) throw AppException.notFound('group not found');
    return group;
  }

  private async deleteGroup(m: EntityManager, groupId: string): Promise<string[]> {
    const rows = await m.find(GroupMember, { where: { groupId }, select: { userId: true } });
    await m.delete(GroupMember, { groupId });
    await m.delete(Group, { id: groupId });
    return rows.map((r) => r.userId);
  }

  private oldest(m: EntityManager, groupId: string, role: GroupRole): Promise<GroupMember | null> {
    return m.findOne(GroupMember, {
      where: { groupId, role },
      order: { joinedAt: 'ASC', userId: 'ASC' },
    });
  }

  private async countMembers(
    groupIds: string[],
    m: EntityManager = this.members.manager,
  ): Promise<Map<string, number>> {
    if (groupIds.length === 0) return new Map();
    const rows = await m
      .createQueryBuilder(GroupMember, 'm')
      .select('m.groupId', 'groupId')
      .addSelect('COUNT(*)', 'count')
      .where('m.groupId IN (:...groupIds)', { groupIds })
      .groupBy('m.groupId')
      .getRawMany<{ groupId: string; count: string | number }>();
    return new Map(rows.map((r) => [r.groupId, Number(r.count)]));
  }

  /**
   * After a commit: drops the cached memberships the change made stale (on every instance),
   * then publishes the events.
   */
  private async publish(events: PendingEvent[]): Promise<void> {
    const stale: Promise<void>[] = [];
    for (const [name, payload] of events) {
      if (name === GroupEvents.MemberRemoved) {
        const e = payload as GroupMemberRemovedEvent;
        stale.push(this.bus.publish('groups.membership', membershipKey(e.groupId, e.userId)));
      } else if (name === GroupEvents.Updated) {
        const e = payload as GroupUpdatedEvent;
        for (const r of e.changes.roles ?? []) {
          stale.push(this.bus.publish('groups.membership', membershipKey(e.groupId, r.userId)));
        }
      } else if (name === GroupEvents.Deleted) {
        stale.push(this.bus.publish('groups.group', (payload as GroupDeletedEvent).groupId));
      }
    }
    await Promise.all(stale);
    for (const [name, payload] of events) this.events.emit(name, payload);
  }
}

function toGroupDto(group: Group): GroupDto {
  return {
    group_id: group.id,
    name: group.name,
    description: group.description,
    avatar: group.avatar,
    creator_id: group.creatorId,
    created_at: iso(group.createdAt)!,
  };
}
