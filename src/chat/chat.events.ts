import type { MessageDto, ReadMarkDto } from './dto/chat-responses.dto';

/** Domain events of the chat module, published after commit; the gateway fans them out. */
export const ChatEvents = {
  MessageCreated: 'chat.message_created',
  ReadMarkMoved: 'chat.read_mark_moved',
} as const;

/** Where a socket-originated action came from, so that socket is not echoed. */
export interface Origin {
  socketId?: string;
}

export interface MessageCreatedEvent {
  message: MessageDto;
  origin: Origin;
}

export interface ReadMarkMovedEvent {
  mark: ReadMarkDto;
  origin: Origin;
}
