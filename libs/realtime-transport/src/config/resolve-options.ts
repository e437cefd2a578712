import { InvalidRealtimeConfigError, parseOptions, type SettingSources } from '@realtime-streams/common';
import type {
  RealtimeRoutingFlags,
  RealtimeTransportOptions,
  ResolvedRealtimeTransportOptions,
} from '../realtime-transport-options.interface';
import type { TransportName } from '../transports/realtime-transport.interface';
import { realtimeTransportSchema, routingFlagsSchema } from './realtime-options.schema';

/**
 * Applies the schema's defaults and bounds to the options given to `forRoot`/`forRootAsync` and derives what the
 * schema cannot say (the transports in use, the bridge's health URLs). Errors name the option (or the variable).
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
  const transports: TransportName[] = rest.inProcess
    ? ['in-process']
    : [...(rest.redis ? (['redis-streams'] as const) : []), ...(bridge ? (['http-bridge'] as const) : [])];
  if (transports.length === 0) {
    throw new InvalidRealtimeConfigError('redis / httpBridge / inProcess', undefined, 'at least one transport');
  }
  return {
    ...rest,
    flags: { useRedisStreams, redisStreamsPercentage, fallbackToHttp, dualWrite },
    httpBridge: bridge,
    transports,
  };
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
