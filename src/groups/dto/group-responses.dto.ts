import { ApiProperty } from '@nestjs/swagger';
import { GROUP_ROLES, GroupRole } from '../group-member.entity';

const GID = '5e1f3c9a-2b7d-4c8e-9f01-23456789abcd';
const UID = '0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b';
const TIME = '2026-11-24T12:00:00.000Z';

export class GroupDto {
  @ApiProperty({ example: GID })
  group_id: string;

  @ApiProperty({ example: '周末登山' })
  name: string;

  @ApiProperty({ example: '每周六早上集合' })
  description: string;

  @ApiProperty({ example: 'https://cdn.example.com/g.png', nullable: true, type: String })
  avatar: string | null;

  @ApiProperty({ example: UID })
  creator_id: string;

  @ApiProperty({ example: TIME })
  created_at: string;
}

export class GroupDetailDto extends GroupDto {
  @ApiProperty({ type: 'integer', example: 12 })
  member_count: number;

  @ApiProperty({ enum: GROUP_ROLES, example: 'owner' })
  my_role: GroupRole;
}

export class GroupListDto {
  @ApiProperty({ type: [GroupDetailDto] })
  groups: GroupDetailDto[];
}

export class GroupMemberDto {
  @ApiProperty({ example: UID })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: null, nullable: true, type: String })
  avatar: string | null;

  @ApiProperty({ enum: GROUP_ROLES, example: 'member' })
  role: GroupRole;

  @ApiProperty({ example: TIME })
  joined_at: string;
}

export class GroupMemberPageDto {
  @ApiProperty({ type: [GroupMemberDto] })
  members: GroupMemberDto[];

  @ApiProperty({ type: 'integer', example: 12 })
  total: number;
}

export class AddedMembersDto {
  @ApiProperty({ example: GID })
  group_id: string;

  @ApiProperty({
    type: [String],
    example: [UID],
    description: 'Who was added (already-members are not listed)',
  })
  added_user_ids: string[];

  @ApiProperty({ type: 'integer', example: 13 })
  member_count: number;
}

export class MemberRoleDto {
  @ApiProperty({ example: GID })
  group_id: string;

  @ApiProperty({ example: UID })
  user_id: string;

  @ApiProperty({ enum: GROUP_ROLES, example: 'admin' })
  role: GroupRole;
}
