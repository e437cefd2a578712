import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CqrsModule } from '@nestjs/cqrs';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { ChatModule } from './chat/chat.module';
import { serviceConfig, type ServiceRole } from './config/service.config';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { gatewayModule, publisherModule } from './realtime.wiring';

/**
 * The reference chat service. One process can be the API (REST + publisher), the gateway (hub + stream consumer +
 * bridge receiver), or both (`REALTIME_ROLE=all`, the default, what `npm start` runs).
 */
@Module({})
export class AppModule {
  static forRole(role: ServiceRole, envFilePath: string): DynamicModule {
    const api = role === 'api' || role === 'all';
    const gateway = role === 'gateway' || role === 'all';
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, envFilePath, load: [serviceConfig] }),
        PrometheusModule.register({ path: '/metrics' }),
        HealthModule,
        ...(api ? [CqrsModule.forRoot(), publisherModule(), ChatModule, DemoModule] : []),
        ...(gateway ? [gatewayModule()] : []),
      ],
    };
  }
}
