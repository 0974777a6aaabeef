import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';

/** Ids compare as lower-case strings. */
const Lower = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  length,
  Length,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  ValidationArguments,
} from 'class-validator';
import { OffsetParam } from '../../common/dto/page-query.dto';
import { isMediaUrl } from '../../common/utils/media-url';
import { MESSAGE_TYPES, MessageType } from '../message.entity';

/** Exactly one of receiver_id / group_id. */
@ValidatorConstraint({ name: 'exactlyOneTarget' })
class ExactlyOneTarget implements ValidatorConstraintInterface {
  validate(_: unknown, args: ValidationArguments): boolean {
    const o = args.object as { receiver_id?: unknown; group_id?: unknown };
    return (o.receiver_id != null) !== (o.group_id != null);
  }
  defaultMessage(): string {
    return 'exactly one of receiver_id or group_id is required';
  }
}

/** text: 1-5000 characters, not only blanks; image/file: an http(s) URL or an upload path. */
@ValidatorConstraint({ name: 'contentForType' })
class ContentForType implements ValidatorConstraintInterface {
  validate(content: unknown, args: ValidationArguments): boolean {
    const type = (args.object as { type?: unknown }).type;
    if (typeof content !== 'string') return false;
    // Characters as @Length counts them (an emoji is one); UTF-16 units bound them from above.
    if (type === 'text') {
      return content.trim().length > 0 && (content.length <= 5000 || length(content, 1, 5000));
    }
    return content.length <= 2048 && isMediaUrl(content);
  }
  defaultMessage(args: ValidationArguments): string {
    return (args.object as { type?: unknown }).type === 'text'
      ? 'content must be 1 to 5000 characters, not only blanks, for a text message'
      : 'content must be an http(s) URL or an upload path for an image or file message';
  }
}

/** A conversation: the peer of a private chat or a group. */
export class ConversationTargetDto {
  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The other user (private chat)',
  })
  @ValidateIf((o: ConversationTargetDto) => o.receiver_id != null || o.group_id == null)
  @Lower()
  @IsUUID('all', { message: 'receiver_id must be a UUID' })
  @Validate(ExactlyOneTarget)
  receiver_id?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The group (group chat)',
  })
  @ValidateIf((o: ConversationTargetDto) => o.group_id != null)
  @Lower()
  @IsUUID('all', { message: 'group_id must be a UUID' })
  group_id?: string | null;
}

export class SendMessageDto extends ConversationTargetDto {
  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  @IsIn(MESSAGE_TYPES)
  type: MessageType;

  @ApiProperty({
    example: '你好 👋',
    description: 'text: 1-5000 characters; image/file: http(s) URL or upload path',
  })
  @IsString()
  @Validate(ContentForType)
  content: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'c-7f3a',
    maxLength: 64,
    description: 'Makes retries idempotent (per sender)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(/^[\x21-\x7e]+$/, { message: 'client_msg_id must be printable ASCII without spaces' })
  client_msg_id?: string | null;
}

export class HistoryQueryDto extends ConversationTargetDto {
  @ApiPropertyOptional({ type: 'integer', example: 20, minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @OffsetParam('Not allowed with before/after')
  offset?: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'Messages older than this id, newest first' })
  @IsOptional()
  @Lower()
  @IsUUID('all', { message: 'before must be a message id' })
  before?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Messages newer than this id, oldest first' })
  @IsOptional()
  @Lower()
  @IsUUID('all', { message: 'after must be a message id' })
  after?: string;
}

export class ReadDto extends ConversationTargetDto {
  @ApiProperty({
    format: 'uuid',
    description: 'Everything up to and including this message is read',
  })
  @Lower()
  @IsUUID('all', { message: 'message_id must be a message id' })
  message_id: string;
}

export class TypingDto extends ConversationTargetDto {}

export class SyncQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The watermark of the previous call (the newest message id the client has); omit to start from the beginning',
  })
  @IsOptional()
  @Lower()
  @IsUUID('all', { message: 'after must be a message id' })
  after?: string;

  @ApiPropertyOptional({ type: 'integer', example: 100, minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 100;
}
