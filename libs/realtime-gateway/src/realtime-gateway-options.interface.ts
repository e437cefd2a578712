import type { z } from 'zod';
import type { AccessTokenVerifier } from './auth/access-token-verifier';
import type { realtimeGatewaySchema } from './config/gateway-options.schema';
import type { GroupMethods } from './realtime-gateway-hooks.interface';

export type { GroupMethods, HubCallContext, HubMethod } from './realtime-gateway-hooks.interface';

// The option types come from the schema (config/gateway-options.schema.ts), which also documents every setting.

/** What `RealtimeGatewayModule.forRoot` takes: `auth` is required, everything else has a default. */
export type RealtimeGatewayOptions = z.input<typeof realtimeGatewaySchema>;

export type HubOptions = NonNullable<RealtimeGatewayOptions['hub']>;
export type GatewayAuthOptions = RealtimeGatewayOptions['auth'];
export type GatewayRedisOptions = NonNullable<RealtimeGatewayOptions['redis']>;
export type BridgeReceiverOptions = NonNullable<RealtimeGatewayOptions['bridge']>;
export type SlowClientOptions = NonNullable<RealtimeGatewayOptions['slowClients']>;
export type EnvelopeLimitOptions = NonNullable<RealtimeGatewayOptions['envelopes']>;
export type DedupOptions = NonNullable<RealtimeGatewayOptions['dedup']>;
export type OrderingOptions = NonNullable<RealtimeGatewayOptions['ordering']>;
export type ClientLimitOptions = NonNullable<RealtimeGatewayOptions['limits']>;
export type StatefulReconnectOptions = NonNullable<RealtimeGatewayOptions['statefulReconnect']>;

type Parsed = z.output<typeof realtimeGatewaySchema>;

/** The options with every default applied; what the providers use. */
export interface ResolvedGatewayOptions extends Omit<Parsed, 'auth' | 'hub' | 'instanceId'> {
  instanceId: string;
  hub: Omit<Parsed['hub'], 'groupMethods'> & { groupMethods: GroupMethods[] };
  verifier: AccessTokenVerifier;
  closeOnTokenExpiry: boolean;
}
