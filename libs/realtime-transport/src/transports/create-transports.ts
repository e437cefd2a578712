import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import type { HttpBridgeMetrics } from './http-bridge.metrics';
import { HttpBridgeTransport } from './http-bridge.transport';
import { InProcessTransport } from './in-process.transport';
import type { InProcessSinkRegistry } from '@realtime-streams/common';
import type { RealtimeTransport } from './realtime-transport.interface';
import { RedisStreamsTransport } from './redis-streams.transport';

/** Largest POST the bridge sends (batches are split below it); the gateway's receiver accepts 5 MiB by default. */
const BRIDGE_MAX_BODY_BYTES = 1024 * 1024;

/** The configured transports, in fallback order (Redis Streams before the HTTP bridge). */
export function createTransports(
  options: ResolvedRealtimeTransportOptions,
  sinks: InProcessSinkRegistry,
  metrics?: HttpBridgeMetrics,
): RealtimeTransport[] {
  return options.transports.map((name) => {
    switch (name) {
      case 'redis-streams':
        return new RedisStreamsTransport(options.redis!, Math.max(1, Math.floor(options.publishTimeoutMs * 0.8)));
      case 'http-bridge':
        return new HttpBridgeTransport(
          {
            ...options.httpBridge!,
            timeoutMs: options.publishTimeoutMs,
            maxBodyBytes: BRIDGE_MAX_BODY_BYTES,
            probeTimeoutMs: options.probeTimeoutMs,
            probeIntervalMs: options.probeIntervalMs,
            closeTimeoutMs: options.shutdownTimeoutMs,
          },
          metrics,
        );
      case 'in-process':
        return new InProcessTransport(sinks);
    }
  });
}
