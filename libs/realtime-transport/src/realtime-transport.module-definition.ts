import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import type { RealtimeTransportOptions } from './realtime-transport-options.interface';

export const {
  ConfigurableModuleClass: RealtimeTransportConfigurableModule,
  MODULE_OPTIONS_TOKEN: REALTIME_TRANSPORT_OPTIONS,
  OPTIONS_TYPE: REALTIME_TRANSPORT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REALTIME_TRANSPORT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RealtimeTransportOptions>({ moduleName: 'RealtimeTransport' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Injects the options given to `RealtimeTransportModule.forRoot/forRootAsync`, as given (before defaults). */
export const InjectRealtimeOptions = (): ParameterDecorator => Inject(REALTIME_TRANSPORT_OPTIONS);
