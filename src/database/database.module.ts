import { Inject, Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { PostgresDatabase } from './postgres-database';

/** This process's `PostgresDatabase` when `DATABASE_URL` is set; `null` on SQLite. */
export const POSTGRES_DATABASE = Symbol('POSTGRES_DATABASE');

/** Injects `PostgresDatabase | null` (see `POSTGRES_DATABASE`). */
export const InjectPostgresDatabase = (): ParameterDecorator => Inject(POSTGRES_DATABASE);

/**
 * Which database the service runs on. With `DATABASE_URL` one PostgreSQL pool serves messages, outbox and rooms
 * (one bound on connections per process, one schema creation); without it each SQLite repository opens the
 * `DATABASE_PATH` file itself and this module provides nothing but `null`.
 */
@Module({
  providers: [
    {
      provide: POSTGRES_DATABASE,
      inject: [serviceConfig.KEY],
      useFactory: (config: ServiceConfig): Promise<PostgresDatabase> | null =>
        config.databaseUrl ? PostgresDatabase.open(config.databaseUrl) : null,
    },
  ],
  exports: [POSTGRES_DATABASE],
})
export class DatabaseModule {}
