import { Inject, Injectable, Optional } from '@nestjs/common';
import { healthCheck } from '@realtime-streams/common';
import { HealthProber } from '../fallback/health-prober';
import { REALTIME_TRANSPORTS, RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import type { RealtimeTransport } from '../transports/realtime-transport.interface';
import { RedisStreamsTransport } from '../transports/redis-streams.transport';
import { errorMessage, withTimeout } from '@realtime-streams/common';

/**
 * Redis reachability for publishing: the transport's write probe (the append script with no envelope, on the
 * publishing connection), bounded by a timeout. A Redis that answers PING but refuses writes (maxmemory, read-only
 * replica, failed snapshot, too few replicas) is `down`, with its refusal and what to fix. When the periodic probe
 * has just failed (a frozen, unreachable or refusing Redis), that result is reported at once instead of waiting for
 * another timeout, so `/health` stays quick while Redis does not answer; a probe of its own that fails is passed to
 * the prober, so the transport chain's health shows it too without waiting for the next probe. Reports `down`,
 * never throws.
 *
 * On a Redis Cluster, `shards` lists the shards whose appends fail now (their master gone, their slots down, a
 * redirection loop) with the error: some down is `up` with `degraded: true` (their envelopes take the next
 * transport), all down is `down`. Without the Redis Streams transport (`transport` is `http-bridge` or `in-process`)
 * it is `up` with `used: false`: a component that is not configured is not down.
 */
@Injectable()
export class RedisHealthIndicator {
  private readonly redis?: RedisStreamsTransport;

  constructor(
    @Inject(REALTIME_TRANSPORTS) transports: readonly RealtimeTransport[],
    @Inject(RESOLVED_REALTIME_OPTIONS) private readonly options: ResolvedRealtimeTransportOptions,
    @Optional() private readonly prober?: HealthProber,
  ) {
    this.redis = transports.find((t): t is RedisStreamsTransport => t instanceof RedisStreamsTransport);
  }

  async isHealthy<const Key extends string = 'redis'>(
    key: Key = 'redis' as Key,
    timeoutMs = this.options.probeTimeoutMs,
  ) {
    const indicator = healthCheck(key);
    // Not used is not down: a publisher on the bridge or in process has no Redis to reach (see `transport`).
    if (!this.redis) return indicator.up({ used: false, transport: this.options.transport });
    const probe = this.prober?.lastResult(this.redis.name);
    if (probe && !probe.healthy) {
      return indicator.down({
        message: probe.error ?? 'health probe failed',
        since: new Date(probe.failingSince ?? probe.at).toISOString(),
      });
    }
    const started = performance.now();
    const shards = this.shardDetails();
    try {
      await withTimeout(this.redis.health(), timeoutMs, 'Redis write probe');
      const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      if (!shards) return indicator.up({ latencyMs });
      return indicator.up({ latencyMs, shards, ...(shards.down.length > 0 ? { degraded: true } : {}) });
    } catch (error) {
      this.prober?.reportFailure(this.redis.name, errorMessage(error));
      return indicator.down({ message: errorMessage(error), ...(shards ? { shards } : {}) });
    }
  }

  /** Cluster only: how many shards, and the ones down with their errors. */
  private shardDetails() {
    const states = this.redis?.shardStates();
    if (!states) return undefined;
    const down = states
      .filter((s) => !s.up)
      .map((s) => ({ stream: s.key, error: s.error!, since: new Date(s.downSince!).toISOString() }));
    return { total: states.length, down };
  }
}
