import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { Trim } from '../../common/utils/transform';
import {
  PHONE_PATTERN,
  PHONE_RULE,
  USERNAME_PATTERN,
  USERNAME_RULE,
} from '../../auth/dto/register.dto';
import { OptionalMediaUrl } from '../../common/utils/media-url';

export class UpdateProfileDto {
  @ApiPropertyOptional({ example: '张三丰', minLength: 2, maxLength: 32 })
  @ValidateIf((_, value) => value !== undefined)
  @Trim()
  @IsString()
  @Length(2, 32)
  @Matches(USERNAME_PATTERN, { message: USERNAME_RULE })
  username?: string;

  @OptionalMediaUrl('An http(s) URL or a path returned by the upload endpoint; null clears it')
  avatar?: string | null;

  @ApiPropertyOptional({
    example: '+8613800138000',
    nullable: true,
    type: String,
    description: 'null clears it',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(PHONE_PATTERN, { message: PHONE_RULE })
  phone?: string | null;
}
