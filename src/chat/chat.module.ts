import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DatabaseUnavailableFilter } from '../http/database-unavailable.filter';
import { RoomAccessModule } from '../rooms/room-access.module';
import { RoomsController } from '../rooms/rooms.controller';
import { MessagesController } from './messages.controller';
import { ChatStorageModule } from './storage/chat-storage.module';
import { TypingController } from './typing.controller';

/**
 * The chat API: rooms and their members, messages (stored) and typing indicators (not stored), the last two
 * published on the EventBus. A database outage answers 503.
 */
@Module({
  imports: [RoomAccessModule, ChatStorageModule],
  controllers: [RoomsController, MessagesController, TypingController],
  providers: [{ provide: APP_FILTER, useClass: DatabaseUnavailableFilter }],
})
export class ChatModule {}
