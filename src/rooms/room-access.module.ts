import { Module } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { RoomAccess } from './room-access';
import { RoomRepository } from './storage/room.repository';
import { SqliteRoomRepository } from './storage/sqlite-room.repository';

/** Room membership, for the REST API (api role) and the hub's JoinRoom (gateway role); one instance in role all. */
@Module({
  providers: [
    {
      provide: RoomRepository,
      inject: [serviceConfig.KEY],
      useFactory: (config: ServiceConfig) => new SqliteRoomRepository(config.databasePath),
    },
    RoomAccess,
  ],
  exports: [RoomRepository, RoomAccess],
})
export class RoomAccessModule {}
