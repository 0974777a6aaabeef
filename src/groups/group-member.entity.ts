import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const GROUP_ROLES = ['owner', 'admin', 'member'] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

/**
 * One membership. The primary key (group_id, user_id) makes "is U a member of G, with which
 * role?" one index lookup and a duplicate membership impossible; (user_id) lists my groups.
 */
@Entity('group_members')
@Index('IDX_group_members_user', ['userId'])
@Index('IDX_group_members_group_joined', ['groupId', 'joinedAt'])
export class GroupMember {
  @PrimaryColumn({ name: 'group_id', type: 'varchar', length: 36 })
  groupId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ type: 'varchar', length: 8 })
  role: GroupRole;

  @Column({ name: 'joined_at', type: 'datetime', precision: 3 })
  joinedAt: Date;
}
