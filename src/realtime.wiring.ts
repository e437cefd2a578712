import { type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  HubMethodError,
  type RealtimeGatewayConfig,
  realtimeGatewayConfig,
  RealtimeGatewayModule,
  type RealtimeGatewayOptions,
} from '@realtime-streams/gateway';
import {
  type RealtimeConfig,
  realtimeConfig,
  RealtimeTransportModule,
  type RealtimeTransportOptions,
} from '@realtime-streams/transport';
import { ID_PATTERN } from './chat/chat-input';
import { ChatStorageModule } from './chat/storage/chat-storage.module';
import { ChatOutboxStore } from './chat/storage/chat-outbox.store';
import { serviceConfig, type ServiceConfig } from './config/service.config';
import { DatabaseUnavailableError } from './database/database-unavailable.error';
import { RoomAccess, roomGroup } from './rooms/room-access';
import { RoomAccessModule } from './rooms/room-access.module';

/**
 * The publisher as the reference service runs it: settings from the environment, and when this process is also the
 * gateway (role `all`) and no bridge URL is set, the HTTP bridge points at this process, so events still flow when
 * Redis is unreachable. The bridge secret is the service's (see `loadServiceConfig`): the operator's, or in role
 * `all` the installation's generated one, which the receiver of this process holds too. With `REALTIME_OUTBOX` (the
 * default) the outbox is the messages database's `realtime_outbox` table (SQLite or PostgreSQL).
 */
export function publisherModule(): DynamicModule {
  return RealtimeTransportModule.forRootAsync({
    isGlobal: true,
    imports: [ConfigModule.forFeature(realtimeConfig), ConfigModule.forFeature(serviceConfig), ChatStorageModule],
    inject: [realtimeConfig.KEY, serviceConfig.KEY, ChatOutboxStore],
    useFactory: (
      realtime: RealtimeConfig,
      service: ServiceConfig,
      outbox: ChatOutboxStore,
    ): RealtimeTransportOptions => ({
      ...realtime,
      // The library leaves SIGHUP alone unless asked; the service reloads its routing flags from .env by default.
      reloadEnvFile: realtime.reloadEnvFile ?? '.env',
      outbox: service.outbox ? { store: outbox } : undefined,
      httpBridge:
        service.bridgePublisher && service.bridgeSecret
          ? {
              ...(realtime.httpBridge ?? { urls: [`http://127.0.0.1:${service.port}${service.bridgePath}`] }),
              secret: service.bridgeSecret,
            }
          : undefined,
    }),
  });
}

/**
 * The gateway as the reference service runs it: `/hubs/chat`, `JoinRoom(roomId)` / `LeaveRoom(roomId)` for group
 * `room:<roomId>`, members only unless `ROOMS_OPEN=true`; the bridge receiver only when the service turned it on,
 * and then always with the service's secret.
 */
export function gatewayModule(): DynamicModule {
  return RealtimeGatewayModule.forRootAsync({
    isGlobal: true,
    imports: [ConfigModule.forFeature(realtimeGatewayConfig), ConfigModule.forFeature(serviceConfig), RoomAccessModule],
    inject: [realtimeGatewayConfig.KEY, serviceConfig.KEY, RoomAccess],
    useFactory: (
      gateway: RealtimeGatewayConfig,
      service: ServiceConfig,
      access: RoomAccess,
    ): RealtimeGatewayOptions => ({
      ...gateway,
      auth: { ...gateway.auth, jwt: service.jwt },
      hub: {
        ...gateway.hub,
        path: service.hubPath,
        groupMethods: [{ join: 'JoinRoom', leave: 'LeaveRoom', toGroup: (roomId) => roomGroupOf(roomId) }],
        // Open rooms need no lookup; members-only ones ask the database at every join (no cache to go stale).
        authorizeGroup: access.open ? undefined : (user, group) => mayJoin(access, user.id, group),
      },
      bridge:
        service.bridgeReceiver && service.bridgeSecret
          ? { ...gateway.bridge, path: gateway.bridge?.path ?? service.bridgePath, secret: service.bridgeSecret }
          : undefined,
    }),
  });
}

/** A database outage fails the join with a message the client can act on, instead of an unexpected-error log. */
async function mayJoin(access: RoomAccess, userId: string, group: string): Promise<boolean> {
  try {
    return await access.mayJoinGroup(userId, group);
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw new HubMethodError('Rooms are unavailable; try again.');
    throw error;
  }
}

function roomGroupOf(roomId: unknown): string {
  if (typeof roomId !== 'string' || !ID_PATTERN.test(roomId)) {
    throw new HubMethodError('roomId must be 1-64 letters, digits, "_" or "-"');
  }
  return roomGroup(roomId);
}
