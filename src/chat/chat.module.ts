import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { MessagesController } from './messages.controller';
import { MessageRepository } from './storage/message.repository';
import { SqliteMessageRepository } from './storage/sqlite-message.repository';
import { TypingController } from './typing.controller';

/** The chat API: messages (stored) and typing indicators (not stored), both published on the EventBus. */
@Module({
  controllers: [MessagesController, TypingController],
  providers: [
    {
      provide: MessageRepository,
      inject: [serviceConfig.KEY],
      useFactory: (config: ServiceConfig) => new SqliteMessageRepository(config.databasePath),
    },
  ],
})
export class ChatModule {}
