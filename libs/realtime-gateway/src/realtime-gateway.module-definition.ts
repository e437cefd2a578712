import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import type { RealtimeGatewayOptions } from './realtime-gateway-options.interface';

export const {
  ConfigurableModuleClass: RealtimeGatewayConfigurableModule,
  MODULE_OPTIONS_TOKEN: REALTIME_GATEWAY_OPTIONS,
  OPTIONS_TYPE: REALTIME_GATEWAY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REALTIME_GATEWAY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RealtimeGatewayOptions>({ moduleName: 'RealtimeGateway' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Injects the options given to `RealtimeGatewayModule.forRoot/forRootAsync`, as given (before defaults). */
export const InjectRealtimeGatewayOptions = (): ParameterDecorator => Inject(REALTIME_GATEWAY_OPTIONS);
