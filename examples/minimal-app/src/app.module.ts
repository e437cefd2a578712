import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { CqrsModule } from '@nestjs/cqrs';
import { RealtimeGatewayModule } from '@realtime-streams/gateway';
import { RealtimeTransportModule } from '@realtime-streams/transport';
import { NotifyController } from './notify.controller';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Publisher and gateway in one process, both on Redis Streams: the transport writes `@RealtimeEvent` events from
 * the EventBus to Redis, the gateway reads them back and pushes them to the hub's clients. Split them into two
 * services later by moving `RealtimeGatewayModule` out; nothing else changes.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The transport subscribes to the EventBus, so CQRS must be there.
    CqrsModule.forRoot(),
    RealtimeTransportModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        redis: { url: config.get<string>('REDIS_URL', DEFAULT_REDIS_URL) },
      }),
    }),
    RealtimeGatewayModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        hub: { path: '/hubs/notifications' },
        // main.ts refuses to start without it; getOrThrow keeps this module safe to reuse elsewhere.
        auth: { jwtSecret: config.getOrThrow<string>('JWT_SECRET') },
        redis: { url: config.get<string>('REDIS_URL', DEFAULT_REDIS_URL) },
      }),
    }),
  ],
  controllers: [NotifyController],
})
export class AppModule {}
