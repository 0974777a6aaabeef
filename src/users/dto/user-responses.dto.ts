import { ApiProperty } from '@nestjs/swagger';

const ID = '0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b';
const TIME = '2026-11-24T12:00:00.000Z';

export class ProfileDto {
  @ApiProperty({ example: ID })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: 'zhangsan@example.com' })
  email: string;

  @ApiProperty({ example: '+8613800138000', nullable: true, type: String })
  phone: string | null;

  @ApiProperty({ example: 'https://cdn.example.com/a.png', nullable: true, type: String })
  avatar: string | null;

  @ApiProperty({ example: TIME })
  created_at: string;

  @ApiProperty({ example: TIME })
  updated_at: string;
}

export class UpdatedProfileDto {
  @ApiProperty({ example: ID })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: 'https://cdn.example.com/a.png', nullable: true, type: String })
  avatar: string | null;

  @ApiProperty({ example: '+8613800138000', nullable: true, type: String })
  phone: string | null;

  @ApiProperty({ example: TIME })
  updated_at: string;
}

export class PublicProfileDto {
  @ApiProperty({ example: ID })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: 'https://cdn.example.com/a.png', nullable: true, type: String })
  avatar: string | null;

  @ApiProperty({ example: false, description: 'Has at least one connected socket' })
  online: boolean;

  @ApiProperty({
    example: TIME,
    nullable: true,
    type: String,
    description: 'When the last socket closed',
  })
  last_seen_at: string | null;
}

export class UserSearchResultDto {
  @ApiProperty({ type: [PublicProfileDto] })
  users: PublicProfileDto[];
}
