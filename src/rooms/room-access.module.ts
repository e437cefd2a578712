import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { DatabaseModule, POSTGRES_DATABASE } from '../database/database.module';
import type { PostgresDatabase } from '../database/postgres-database';
import { RoomAccess } from './room-access';
import { PostgresRoomRepository } from './storage/postgres-room.repository';
import { RoomRepository } from './storage/room.repository';
import { SqliteRoomRepository } from './storage/sqlite-room.repository';

/** Room membership, for the REST API (api role) and the hub's JoinRoom (gateway role); one instance in role all. */
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: RoomRepository,
      inject: [serviceConfig.KEY, POSTGRES_DATABASE],
      useFactory: (config: ServiceConfig, postgres: PostgresDatabase | null): RoomRepository =>
        postgres ? new PostgresRoomRepository(postgres) : new SqliteRoomRepository(config.databasePath),
    },
    RoomAccess,
  ],
  exports: [RoomRepository, RoomAccess],
})
export class RoomAccessModule {}
