import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../../config/service.config';
import { MessageRepository } from './message.repository';
import { SqliteMessageRepository } from './sqlite-message.repository';
import { SqliteOutboxStore } from './sqlite-outbox.store';

/**
 * The chat's database: messages and the realtime outbox on one SQLite connection, so one transaction holds both.
 * Imported by the chat API and by the publisher module (which reads and trims the outbox).
 */
@Module({
  providers: [
    {
      provide: SqliteMessageRepository,
      inject: [serviceConfig.KEY],
      useFactory: (config: ServiceConfig) => new SqliteMessageRepository(config.databasePath),
    },
    { provide: MessageRepository, useExisting: SqliteMessageRepository },
    {
      provide: SqliteOutboxStore,
      inject: [SqliteMessageRepository],
      useFactory: (messages: SqliteMessageRepository) => new SqliteOutboxStore(messages.database),
    },
  ],
  exports: [MessageRepository, SqliteOutboxStore],
})
export class ChatStorageModule {}
