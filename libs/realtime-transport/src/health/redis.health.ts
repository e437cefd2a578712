import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { REALTIME_TRANSPORTS, RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import type { RealtimeTransport } from '../transports/realtime-transport.interface';
import { RedisStreamsTransport } from '../transports/redis-streams.transport';
import { errorMessage } from '../util/error-message';
import { withTimeout } from '../util/with-timeout';

/** Redis reachability: a `PING` on the publishing connection, bounded by a timeout. Reports `down`, never throws. */
@Injectable()
export class RedisHealthIndicator {
  private readonly redis?: RedisStreamsTransport;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(REALTIME_TRANSPORTS) transports: readonly RealtimeTransport[],
    @Inject(RESOLVED_REALTIME_OPTIONS) private readonly options: ResolvedRealtimeTransportOptions,
  ) {
    this.redis = transports.find((t): t is RedisStreamsTransport => t instanceof RedisStreamsTransport);
  }

  async isHealthy<const Key extends string = 'redis'>(key: Key = 'redis' as Key, timeoutMs = this.options.probeTimeoutMs) {
    const indicator = this.health.check(key);
    if (!this.redis) return indicator.down({ message: 'the Redis Streams transport is not configured' });
    const started = performance.now();
    try {
      await withTimeout(this.redis.health(), timeoutMs, 'Redis PING');
      return indicator.up({ latencyMs: Math.round((performance.now() - started) * 1000) / 1000 });
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}
