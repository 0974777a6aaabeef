import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { ApiAuth, ApiEnvelope, ApiErrors } from '../common/decorators/api-envelope.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { ErrorCode } from '../common/errors/error-code';
import { ChatService } from './chat.service';
import { HistoryQueryDto, ReadDto, SendMessageDto, SyncQueryDto } from './dto/chat-requests.dto';
import {
  ConversationListDto,
  HistoryDto,
  MessageDto,
  ReadMarkDto,
  SyncDto,
} from './dto/chat-responses.dto';

@ApiTags('chat')
@ApiAuth()
@Controller('chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post('message')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Send a message to a user or a group',
    description:
      'Stored before the answer and before `message:new` reaches the recipients. A retry with the same `client_msg_id` returns the original message.',
  })
  @ApiEnvelope(MessageDto)
  @ApiErrors(
    ErrorCode.BadRequest,
    ErrorCode.Forbidden,
    ErrorCode.NotFound,
    ErrorCode.TooManyRequests,
  )
  send(@CurrentUser() user: AuthUser, @Body() dto: SendMessageDto): Promise<MessageDto> {
    return this.chat.send(user.id, dto);
  }

  @Get('messages')
  @ApiOperation({
    summary: 'History of a conversation',
    description:
      'Newest first with `offset` or `before`; oldest first with `after`. Each message carries `read_by`.',
  })
  @ApiEnvelope(HistoryDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  history(@CurrentUser() user: AuthUser, @Query() query: HistoryQueryDto): Promise<HistoryDto> {
    return this.chat.history(user.id, query);
  }

  @Post('read')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Mark a conversation read up to a message',
    description:
      'Idempotent; the read mark never moves backwards. Emits `message:read` to the other participants.',
  })
  @ApiEnvelope(ReadMarkDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  read(@CurrentUser() user: AuthUser, @Body() dto: ReadDto): Promise<ReadMarkDto> {
    return this.chat.markRead(user.id, dto);
  }

  @Get('sync')
  @ApiOperation({
    summary: 'Catch up after being offline',
    description:
      'Every message of all my conversations newer than `after`, oldest first, at most `limit` (≤ 500). Call again with `after = watermark` while `has_more`.',
  })
  @ApiEnvelope(SyncDto)
  @ApiErrors(ErrorCode.BadRequest)
  sync(@CurrentUser() user: AuthUser, @Query() query: SyncQueryDto): Promise<SyncDto> {
    return this.chat.sync(user.id, query);
  }

  @Get('conversations')
  @ApiOperation({ summary: 'My conversations, most recent activity first, with unread counts' })
  @ApiEnvelope(ConversationListDto)
  @ApiErrors(ErrorCode.BadRequest)
  conversations(
    @CurrentUser() user: AuthUser,
    @Query() query: PageQueryDto,
  ): Promise<ConversationListDto> {
    return this.chat.conversations(user.id, query.limit, query.offset);
  }
}
