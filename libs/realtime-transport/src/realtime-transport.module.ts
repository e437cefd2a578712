import { Module } from '@nestjs/common';
import { RealtimeTransportConfigurableModule } from './realtime-transport.module-definition';
import { realtimeTransportExports, realtimeTransportProviders } from './realtime-transport.providers';

/**
 * Publisher side: delivers `@RealtimeEvent` events from the EventBus through Redis Streams and/or the HTTP bridge.
 * Needs `CqrsModule.forRoot()` in the application.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     CqrsModule.forRoot(),
 *     ConfigModule.forRoot({ load: [realtimeConfig] }),
 *     RealtimeTransportModule.forRootAsync({
 *       imports: [ConfigModule.forFeature(realtimeConfig)],
 *       inject: [realtimeConfig.KEY],
 *       useFactory: (config: RealtimeConfig) => config,
 *     }),
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
