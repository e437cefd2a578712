import { Module } from '@nestjs/common';
import { RealtimeGatewayConfigurableModule } from './realtime-gateway.module-definition';
import { realtimeGatewayExports, realtimeGatewayProviders } from './realtime-gateway.providers';

/**
 * Delivery side: a SignalR-compatible hub for stock `@microsoft/signalr` clients (JSON and MessagePack over
 * WebSockets and long polling, JSON over Server-Sent Events; stateful reconnect), fed by a Redis Streams consumer,
 * the HTTP bridge receiver, and the publisher's in-process transport (`REALTIME_TRANSPORT` opens only what the
 * publishers use). Configure it from the environment with `forRootAsync(realtimeGatewayConfig.asProvider())`.
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
