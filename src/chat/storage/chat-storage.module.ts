import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../../config/service.config';
import { DatabaseModule, POSTGRES_DATABASE } from '../../database/database.module';
import type { PostgresDatabase } from '../../database/postgres-database';
import { ChatOutboxStore } from './chat-outbox.store';
import { MessageRepository } from './message.repository';
import { PostgresMessageRepository } from './postgres-message.repository';
import { PostgresOutboxStore } from './postgres-outbox.store';
import { SqliteMessageRepository } from './sqlite-message.repository';
import { SqliteOutboxStore } from './sqlite-outbox.store';

/**
 * The chat's database: messages and the realtime outbox, where one transaction holds both. SQLite (one connection
 * to `DATABASE_PATH`) by default, PostgreSQL (the shared pool) with `DATABASE_URL`. Imported by the chat API and by
 * the publisher module (which reads and trims the outbox).
 */
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: MessageRepository,
      inject: [serviceConfig.KEY, POSTGRES_DATABASE],
      useFactory: (config: ServiceConfig, postgres: PostgresDatabase | null): MessageRepository =>
        postgres ? new PostgresMessageRepository(postgres) : new SqliteMessageRepository(config.databasePath),
    },
    {
      provide: ChatOutboxStore,
      inject: [MessageRepository, POSTGRES_DATABASE],
      useFactory: (messages: MessageRepository, postgres: PostgresDatabase | null): ChatOutboxStore =>
        postgres
          ? new PostgresOutboxStore(postgres)
          : // On the messages' own connection: SQLite transactions belong to a connection.
            new SqliteOutboxStore((messages as SqliteMessageRepository).database),
    },
  ],
  exports: [MessageRepository, ChatOutboxStore],
})
export class ChatStorageModule {}
