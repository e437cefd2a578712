import { registerAs } from '@nestjs/config';
import type { RealtimeTransportOptions } from '../realtime-transport-options.interface';
import { parseRealtimeEnv } from './realtime-env.parser';

/**
 * The `realtime` config namespace: module options read from the environment and checked at start-up.
 *
 * @example
 * ```ts
 * ConfigModule.forRoot({ load: [realtimeConfig] }),
 * RealtimeTransportModule.forRootAsync({ inject: [realtimeConfig.KEY], useFactory: (c: RealtimeConfig) => c }),
 * ```
 */
export const realtimeConfig = registerAs('realtime', (): RealtimeTransportOptions => parseRealtimeEnv(process.env));

export type RealtimeConfig = RealtimeTransportOptions;
