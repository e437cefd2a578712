import { Module } from '@nestjs/common';
import { RealtimeGatewayConfigurableModule } from './realtime-gateway.module-definition';
import { realtimeGatewayExports, realtimeGatewayProviders } from './realtime-gateway.providers';

/**
 * Delivery side: a SignalR-compatible hub (JSON protocol over WebSockets) for stock `@microsoft/signalr` clients,
 * fed by a Redis Streams consumer, the HTTP bridge receiver, and the publisher's in-process transport.
 * Needs an HTTP application (`NestFactory.create`).
 *
 * @example
 * ```ts
 * RealtimeGatewayModule.forRoot({
 *   hub: { path: '/hubs/chat', groupMethods: [{ join: 'JoinRoom', leave: 'LeaveRoom', toGroup: (id) => `room:${id}` }] },
 *   auth: { jwtSecret: process.env.JWT_SECRET },
 *   redis: { url: 'redis://127.0.0.1:6379' },
 *   bridge: { secret: process.env.REALTIME_BRIDGE_SECRET },
 * })
 * ```
 */
@Module({
  providers: realtimeGatewayProviders,
  exports: realtimeGatewayExports,
})
export class RealtimeGatewayModule extends RealtimeGatewayConfigurableModule {}
