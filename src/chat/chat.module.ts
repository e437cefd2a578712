import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { RoomAccessModule } from '../rooms/room-access.module';
import { RoomsController } from '../rooms/rooms.controller';
import { MessagesController } from './messages.controller';
import { MessageRepository } from './storage/message.repository';
import { SqliteMessageRepository } from './storage/sqlite-message.repository';
import { TypingController } from './typing.controller';

/**
 * The chat API: rooms and their members, messages (stored) and typing indicators (not stored), the last two
 * published on the EventBus.
 */
@Module({
  imports: [RoomAccessModule],
  controllers: [RoomsController, MessagesController, TypingController],
  providers: [
    {
      provide: MessageRepository,
      inject: [serviceConfig.KEY],
      useFactory: (config: ServiceConfig) => new SqliteMessageRepository(config.databasePath),
    },
  ],
})
export class ChatModule {}
