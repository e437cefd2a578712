import { Module } from '@nestjs/common';
import { RealtimeTransportConfigurableModule } from './realtime-transport.module-definition';
import { realtimeTransportExports, realtimeTransportProviders } from './realtime-transport.providers';

/**
 * Publisher side: delivers `@RealtimeEvent` events through Redis Streams, the HTTP bridge or both (or to a gateway in
 * the same process). `@nestjs/cqrs` is optional: with `CqrsModule` in the application, the events published on its
 * EventBus go out; without it, the application calls `RealtimePublisher.publish(event)`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     CqrsModule.forRoot(), // optional, see above
 *     ConfigModule.forRoot(),
 *     RealtimeTransportModule.forRootAsync(realtimeConfig.asProvider()),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: realtimeTransportProviders,
  exports: realtimeTransportExports,
})
export class RealtimeTransportModule extends RealtimeTransportConfigurableModule {}
