import { ApiProperty } from '@nestjs/swagger';
import { PublicProfileDto } from '../../users/dto/user-responses.dto';
import { MESSAGE_TYPES, MessageType } from '../message.entity';

const MID = '01a20e07-8e92-765c-8f2f-152e320a0cf8';
const UID = '0b0e6a52-3f0c-4a53-9d6e-5b0f6f8f1a2b';
const TIME = '2026-11-24T12:00:00.000Z';

export class MessageDto {
  @ApiProperty({
    example: MID,
    description: 'Time-ordered (UUIDv7): sorting by id is sorting by send order',
  })
  message_id: string;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  type: MessageType;

  @ApiProperty({ example: '你好 👋' })
  content: string;

  @ApiProperty({ example: UID })
  sender_id: string;

  @ApiProperty({ example: UID, nullable: true, type: String })
  receiver_id: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  group_id: string | null;

  @ApiProperty({ example: TIME })
  created_at: string;
}

export class ReadByDto {
  @ApiProperty({ example: UID })
  user_id: string;

  @ApiProperty({ example: TIME, description: "When the reader's read mark last moved forward" })
  read_at: string;
}

export class HistoryMessageDto extends MessageDto {
  @ApiProperty({ type: [ReadByDto], description: 'Users other than the sender who have read it' })
  read_by: ReadByDto[];
}

export class HistoryDto {
  @ApiProperty({ type: [HistoryMessageDto] })
  messages: HistoryMessageDto[];

  @ApiProperty({ type: 'integer', example: 42, description: 'Messages in the conversation' })
  total: number;

  @ApiProperty({ example: true })
  has_more: boolean;
}

export class ReadMarkDto {
  @ApiProperty({ example: UID, description: 'The reader' })
  user_id: string;

  @ApiProperty({
    example: UID,
    nullable: true,
    type: String,
    description: 'The other user of a private chat',
  })
  receiver_id: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  group_id: string | null;

  @ApiProperty({ example: MID, description: 'Read up to and including this message' })
  message_id: string;

  @ApiProperty({ example: TIME })
  read_at: string;
}

export class GroupSummaryDto {
  @ApiProperty({ example: '5e1f3c9a-2b7d-4c8e-9f01-23456789abcd' })
  group_id: string;

  @ApiProperty({ example: '周末登山' })
  name: string;

  @ApiProperty({ example: null, nullable: true, type: String })
  avatar: string | null;
}

export class ConversationDto {
  @ApiProperty({ enum: ['private', 'group'], example: 'private' })
  type: 'private' | 'group';

  @ApiProperty({ type: PublicProfileDto, nullable: true, description: 'The other user (private)' })
  peer: PublicProfileDto | null;

  @ApiProperty({ type: GroupSummaryDto, nullable: true, description: 'The group (group)' })
  group: GroupSummaryDto | null;

  @ApiProperty({ type: MessageDto, nullable: true })
  last_message: MessageDto | null;

  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'Messages from others after my read mark',
  })
  unread_count: number;

  @ApiProperty({
    example: TIME,
    description: 'The last message, or when I joined a group without messages',
  })
  updated_at: string;
}

export class ConversationListDto {
  @ApiProperty({ type: [ConversationDto] })
  conversations: ConversationDto[];

  @ApiProperty({ type: 'integer', example: 7 })
  total: number;
}

export class SyncDto {
  @ApiProperty({ type: [MessageDto], description: 'Oldest first, across all my conversations' })
  messages: MessageDto[];

  @ApiProperty({
    example: false,
    description: 'More messages wait: call again with after = watermark',
  })
  has_more: boolean;

  @ApiProperty({
    example: '01a20e07-8e92-765c-8f2f-152e320a0cf8',
    nullable: true,
    type: String,
    description: 'The newest id returned (or the `after` given): the next call’s `after`',
  })
  watermark: string | null;
}
