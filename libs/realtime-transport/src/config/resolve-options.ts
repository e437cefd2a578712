import { InvalidRealtimeConfigError, parseOptions, type SettingSources } from '@realtime-streams/common';
import type {
  RealtimeRoutingFlags,
  RealtimeTransportOptions,
  ResolvedRealtimeTransportOptions,
} from '../realtime-transport-options.interface';
import type { TransportName } from '../transports/realtime-transport.interface';
import { realtimeTransportSchema, routingFlagsSchema, type TransportMode } from './realtime-options.schema';

/**
 * Applies the schema's defaults and bounds to the options given to `forRoot`/`forRootAsync` and derives what the
 * schema cannot say (the transport mode and the transports it creates, the bridge's health URLs). Errors name the
 * option (or the variable).
 */
export function resolveRealtimeOptions(
  options: RealtimeTransportOptions,
  sources?: SettingSources,
): ResolvedRealtimeTransportOptions {
  const { useRedisStreams, redisStreamsPercentage, fallbackToHttp, dualWrite, httpBridge, ...rest } = parseOptions(
    realtimeTransportSchema,
    options,
    sources,
  );
  const bridge = httpBridge && { ...httpBridge, healthUrls: healthUrls(httpBridge.urls, httpBridge.healthUrls) };
  const transport = transportMode(rest.transport, rest.inProcess, rest.redis !== undefined, bridge !== undefined);
  return {
    ...rest,
    transport,
    // Only what the mode uses is kept: a transport left out is never created, so it never connects or probes.
    redis: transport === 'redis-streams' || transport === 'dual' ? rest.redis : undefined,
    httpBridge: transport === 'in-process' ? undefined : bridge,
    flags: { useRedisStreams, redisStreamsPercentage, fallbackToHttp, dualWrite },
    transports: TRANSPORTS_OF[transport].filter((name) => name !== 'http-bridge' || bridge !== undefined),
  };
}

/** The transports each mode creates, in fallback order; the bridge only when it is configured. */
const TRANSPORTS_OF: Record<TransportMode, TransportName[]> = {
  'redis-streams': ['redis-streams', 'http-bridge'],
  'http-bridge': ['http-bridge'],
  'in-process': ['in-process'],
  dual: ['redis-streams', 'http-bridge'],
};

/**
 * The transport mode: the one set (`transport`, REALTIME_TRANSPORT), or the one the configured sections imply
 * (earlier versions had no setting), checked against what it needs.
 */
function transportMode(
  given: TransportMode | undefined,
  inProcess: boolean,
  hasRedis: boolean,
  hasBridge: boolean,
): TransportMode {
  if (inProcess && given !== undefined && given !== 'in-process') {
    throw new InvalidRealtimeConfigError(
      'transport (REALTIME_TRANSPORT)',
      given,
      "'in-process' when `inProcess: true` is set too (`inProcess` is the older spelling of transport: 'in-process'; keep one)",
    );
  }
  const mode = given ?? (inProcess ? 'in-process' : hasRedis ? 'redis-streams' : hasBridge ? 'http-bridge' : undefined);
  if (mode === undefined) {
    throw new InvalidRealtimeConfigError(
      'transport (REALTIME_TRANSPORT)',
      undefined,
      "set, or at least one transport configured: `redis` (REDIS_URL), `httpBridge` (REALTIME_HTTP_BRIDGE_URL) or `transport: 'in-process'`",
    );
  }
  if ((mode === 'redis-streams' || mode === 'dual') && !hasRedis) {
    throw new InvalidRealtimeConfigError(
      'redis (REDIS_URL)',
      undefined,
      `set when transport is '${mode}': the Redis the streams are written to`,
    );
  }
  if ((mode === 'http-bridge' || mode === 'dual') && !hasBridge) {
    throw new InvalidRealtimeConfigError(
      'httpBridge.urls (REALTIME_HTTP_BRIDGE_URL)',
      undefined,
      `set when transport is '${mode}': the URL of each gateway instance's bridge receiver`,
    );
  }
  return mode;
}

/** Checks routing flags (a reload, `RealtimeSettings.update`); a bad value throws and changes nothing. */
export function checkRoutingFlags(flags: RealtimeRoutingFlags, sources?: SettingSources): RealtimeRoutingFlags {
  return parseOptions(routingFlagsSchema, flags, sources);
}

function healthUrls(urls: readonly string[], given: readonly string[] | undefined): string[] {
  if (!given || given.length === 0) return urls.map((url) => url.replace(/\/+$/, '') + '/health');
  if (given.length !== urls.length) {
    throw new InvalidRealtimeConfigError('httpBridge.healthUrls', given, `one URL per bridge URL (${urls.length})`);
  }
  return [...given];
}
