import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsByteLength,
  IsEmail,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { Trim, TrimLower } from '../../common/utils/transform';

export const USERNAME_PATTERN = /^[\p{L}\p{N}_.-]+$/u;
export const USERNAME_RULE = 'username may contain letters, digits, _ . - only';
export const PHONE_PATTERN = /^\+[0-9]{6,15}$/;
export const PHONE_RULE = 'phone must be + and 6-15 digits';

export class RegisterDto {
  @ApiProperty({
    example: '张三',
    minLength: 2,
    maxLength: 32,
    description: 'Letters of any script, digits, _ . -; unique case-insensitively',
  })
  @Trim()
  @IsString()
  @Length(2, 32)
  @Matches(USERNAME_PATTERN, { message: USERNAME_RULE })
  username: string;

  @ApiProperty({ example: 'zhangsan@example.com', description: 'Unique; stored lower-case' })
  @TrimLower()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email' })
  email: string;

  @ApiProperty({
    example: 'correct horse battery',
    minLength: 8,
    description: '8-72 bytes (UTF-8)',
  })
  @IsString()
  @IsByteLength(8, 72, { message: 'password must be 8 to 72 bytes long' })
  password: string;

  @ApiPropertyOptional({
    type: String,
    example: '+8613800138000',
    nullable: true,
    description: '+ and 6-15 digits',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(PHONE_PATTERN, { message: PHONE_RULE })
  phone?: string | null;
}
