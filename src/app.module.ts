import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CqrsModule } from '@nestjs/cqrs';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { type RealtimeConfig, realtimeConfig, RealtimeTransportModule } from '@realtime/transport';
import { ChatModule } from './chat/chat.module';
import { HealthModule } from './health/health.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, envFilePath: '.env', load: [realtimeConfig] }),
    CqrsModule.forRoot(),
    PrometheusModule.register({ path: '/metrics' }),
    RealtimeTransportModule.forRootAsync({
      isGlobal: true,
      inject: [realtimeConfig.KEY],
      useFactory: (config: RealtimeConfig) => config,
    }),
    HealthModule,
    ChatModule,
  ],
})
export class AppModule {}
