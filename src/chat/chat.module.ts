import { Module } from '@nestjs/common';
import { RoomAccessModule } from '../rooms/room-access.module';
import { RoomsController } from '../rooms/rooms.controller';
import { MessagesController } from './messages.controller';
import { ChatStorageModule } from './storage/chat-storage.module';
import { TypingController } from './typing.controller';

/**
 * The chat API: rooms and their members, messages (stored) and typing indicators (not stored), the last two
 * published on the EventBus.
 */
@Module({
  imports: [RoomAccessModule, ChatStorageModule],
  controllers: [RoomsController, MessagesController, TypingController],
})
export class ChatModule {}
