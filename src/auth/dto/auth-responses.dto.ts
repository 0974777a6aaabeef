import { ApiProperty } from '@nestjs/swagger';

export class RegisteredUserDto {
  @ApiProperty({ example: '0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b' })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: 'zhangsan@example.com' })
  email: string;

  @ApiProperty({ example: '+8613800138000', nullable: true, type: String })
  phone: string | null;

  @ApiProperty({ example: '2026-11-24T12:00:00.000Z' })
  created_at: string;
}

export class LoginUserDto {
  @ApiProperty({ example: '0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b' })
  user_id: string;

  @ApiProperty({ example: '张三' })
  username: string;

  @ApiProperty({ example: 'zhangsan@example.com' })
  email: string;
}

export class TokenDto {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...' })
  token: string;

  @ApiProperty({ type: 'integer', example: 86400, description: 'Seconds until the token expires' })
  expires_in: number;
}

export class LoginResultDto extends TokenDto {
  @ApiProperty({ type: LoginUserDto })
  user: LoginUserDto;
}
