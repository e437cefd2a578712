import { type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  HubMethodError,
  type RealtimeGatewayConfig,
  realtimeGatewayConfig,
  type RealtimeGatewayOptions,
  RealtimeGatewayModule,
} from '@realtime/gateway';
import {
  type RealtimeConfig,
  realtimeConfig,
  type RealtimeTransportOptions,
  RealtimeTransportModule,
} from '@realtime/transport';
import { serviceConfig, type ServiceConfig } from './config/service.config';

/**
 * The publisher as the reference service runs it: settings from the environment, and when this process is also the
 * gateway (role `all`) and no bridge URL is set, the HTTP bridge points at this process, so events still flow when
 * Redis is unreachable.
 */
export function publisherModule(): DynamicModule {
  return RealtimeTransportModule.forRootAsync({
    isGlobal: true,
    imports: [ConfigModule.forFeature(realtimeConfig), ConfigModule.forFeature(serviceConfig)],
    inject: [realtimeConfig.KEY, serviceConfig.KEY],
    useFactory: (realtime: RealtimeConfig, service: ServiceConfig): RealtimeTransportOptions => ({
      ...realtime,
      // The gateway side defaults its secret the same way, so one machine's processes agree without configuration.
      httpBridge: realtime.httpBridge
        ? { ...realtime.httpBridge, secret: realtime.httpBridge.secret ?? service.bridgeSecret }
        : service.role === 'all'
          ? { urls: [`http://127.0.0.1:${service.port}/internal/realtime/events`], secret: service.bridgeSecret }
          : undefined,
    }),
  });
}

/** The gateway as the reference service runs it: `/hubs/chat`, `JoinRoom(roomId)` / `LeaveRoom(roomId)`. */
export function gatewayModule(): DynamicModule {
  return RealtimeGatewayModule.forRootAsync({
    isGlobal: true,
    imports: [ConfigModule.forFeature(realtimeGatewayConfig), ConfigModule.forFeature(serviceConfig)],
    inject: [realtimeGatewayConfig.KEY, serviceConfig.KEY],
    useFactory: (gateway: RealtimeGatewayConfig, service: ServiceConfig): RealtimeGatewayOptions => ({
      ...gateway,
      auth: { jwtSecret: service.jwtSecret },
      hub: {
        ...gateway.hub,
        path: service.hubPath,
        groupMethods: [{ join: 'JoinRoom', leave: 'LeaveRoom', toGroup: (roomId) => roomGroup(roomId) }],
      },
      bridge: gateway.bridge ?? { secret: service.bridgeSecret },
    }),
  });
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function roomGroup(roomId: unknown): string {
  if (typeof roomId !== 'string' || !ROOM_ID.test(roomId)) {
    throw new HubMethodError('roomId must be 1-64 letters, digits, "_" or "-"');
  }
  return `room:${roomId}`;
}
