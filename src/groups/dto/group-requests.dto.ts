import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { OptionalMediaUrl } from '../../common/utils/media-url';
import { Trim } from '../../common/utils/transform';

export class CreateGroupDto {
  @ApiProperty({ example: '周末登山', minLength: 1, maxLength: 64 })
  @Trim()
  @IsString()
  @Length(1, 64)
  name: string;

  @ApiProperty({ example: '每周六早上集合', maxLength: 500 })
  @Trim()
  @IsString()
  @MaxLength(500)
  description: string;

  @OptionalMediaUrl('An http(s) URL or a path returned by the upload endpoint; null clears it')
  avatar?: string | null;
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ example: '周末登山队', minLength: 1, maxLength: 64 })
  @ValidateIf((_, value) => value !== undefined)
  @Trim()
  @IsString()
  @Length(1, 64)
  name?: string;

  @ApiPropertyOptional({ example: '每周六早上八点集合', maxLength: 500 })
  @ValidateIf((_, value) => value !== undefined)
  @Trim()
  @IsString()
  @MaxLength(500)
  description?: string;

  @OptionalMediaUrl('An http(s) URL or a path returned by the upload endpoint; null clears it')
  avatar?: string | null;
}

export class AddMembersDto {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    example: ['0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b'],
    minItems: 1,
    maxItems: 100,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsUUID('all', { each: true, message: 'each value in user_ids must be a UUID' })
  user_ids: string[];
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ['admin', 'member'], example: 'admin' })
  @IsIn(['admin', 'member'])
  role: 'admin' | 'member';
}
