// What an application uses. Inspection handles for tests: `@realtime-streams/gateway/testing`.
export { RealtimeGatewayModule } from './realtime-gateway.module';
export {
  InjectRealtimeGatewayOptions,
  REALTIME_GATEWAY_OPTIONS,
  REALTIME_GATEWAY_OPTIONS_TYPE,
  REALTIME_GATEWAY_ASYNC_OPTIONS_TYPE,
} from './realtime-gateway.module-definition';
export type {
  RealtimeGatewayOptions,
  HubOptions,
  GroupMethods,
  HubMethod,
  HubCallContext,
  GatewayRedisOptions,
  BridgeReceiverOptions,
  SlowClientOptions,
  EnvelopeLimitOptions,
  DedupOptions,
  OrderingOptions,
  GatewayAuthOptions,
  ClientLimitOptions,
} from './realtime-gateway-options.interface';
export { realtimeGatewayConfig, type RealtimeGatewayConfig } from './config/gateway.config';
export { parseGatewayEnv } from './config/gateway-env.parser';

export type { AccessTokenVerifier, AuthenticatedUser } from './auth/access-token-verifier';
export { JwtVerifier } from './auth/jwt.verifier';
export type { JwtVerificationOptions } from './auth/jwt-verification-options';
export { parseJwtEnv } from './auth/jwt-env.parser';
export { signHs256Jwt } from './auth/sign-hs256-jwt';
export { InvalidRealtimeConfigError } from '@realtime-streams/common';
export { UnauthorizedTokenError } from './errors/unauthorized-token.error';
export { HubMethodError } from './errors/hub-method.error';

export { GatewayHealthIndicator } from './health/gateway.health';
export { GATEWAY_METRIC, type DeliverySource, type EnvelopeRejection } from './metrics/realtime-gateway.metrics';
export { realtimeGatewaySchema } from './config/gateway-options.schema';
