import { registerAs } from '@nestjs/config';
import type { RealtimeGatewayOptions } from '../realtime-gateway-options.interface';
import { parseGatewayEnv } from './gateway-env.parser';

/** The `realtimeGateway` config namespace: gateway options read from the environment, checked at start-up. */
export const realtimeGatewayConfig = registerAs('realtimeGateway', (): RealtimeGatewayOptions =>
  parseGatewayEnv(process.env),
);

export type RealtimeGatewayConfig = RealtimeGatewayOptions;
