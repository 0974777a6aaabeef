import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { GroupsModule } from '../groups/groups.module';
import { UsersModule } from '../users/users.module';
import { ChatController } from './chat.controller';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';
import { Conversation } from './conversation.entity';
import { Message } from './message.entity';
import { MessageWriter } from './message-writer';
import { ReadMark } from './read-mark.entity';

@Module({
  imports: [
    TypeOrmModule.forFeature([Message, Conversation, ReadMark]),
    AuthModule,
    UsersModule,
    GroupsModule,
  ],
  controllers: [ChatController],
  providers: [ChatService, ChatGateway, MessageWriter],
  exports: [ChatService],
})
export class ChatModule {}
