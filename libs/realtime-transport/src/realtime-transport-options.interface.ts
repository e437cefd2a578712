import type { z } from 'zod';
import type { realtimeTransportSchema, routingFlagsSchema, TransportMode } from './config/realtime-options.schema';
import type { TransportName } from './transports/realtime-transport.interface';

// The option types come from the schema (config/realtime-options.schema.ts), which also documents every setting.

/** Flags that decide where envelopes go. They can change at run time (SIGHUP reload, `RealtimeSettings.update`). */
export type RealtimeRoutingFlags = z.output<typeof routingFlagsSchema>;

/** What `RealtimeTransportModule.forRoot` takes; every field but the transports has a default. */
export type RealtimeTransportOptions = z.input<typeof realtimeTransportSchema>;

export type RedisStreamsOptions = NonNullable<RealtimeTransportOptions['redis']>;
export type HttpBridgeOptions = NonNullable<RealtimeTransportOptions['httpBridge']>;
export type CircuitBreakerOptions = NonNullable<RealtimeTransportOptions['breaker']>;

type Parsed = z.output<typeof realtimeTransportSchema>;

/** The options with every default applied; what the providers use. */
export interface ResolvedRealtimeTransportOptions extends Omit<
  Parsed,
  keyof RealtimeRoutingFlags | 'httpBridge' | 'transport'
> {
  /** The transport mode in force: the one set, or the one the configured sections imply. */
  transport: TransportMode;
  flags: RealtimeRoutingFlags;
  httpBridge?: NonNullable<Parsed['httpBridge']> & { healthUrls: string[] };
  /** Transports that are configured, in fallback order. */
  transports: TransportName[];
}
