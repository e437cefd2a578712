import { Inject, Injectable, Optional } from '@nestjs/common';
import { healthCheck } from '@realtime-streams/common';
import { errorMessage } from '@realtime-streams/common';
import { ConnectionRegistry } from '../hub/connection-registry';
import { RESOLVED_GATEWAY_OPTIONS } from '../realtime-gateway.constants';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { StreamConsumer } from '../stream/stream-consumer';
import { StreamMonitor } from '../stream/stream-monitor';

/** Gateway health for `@nestjs/terminus`. Reports `down` with the reason; never throws. */
@Injectable()
export class GatewayHealthIndicator {
  constructor(
    private readonly registry: ConnectionRegistry,
    @Inject(RESOLVED_GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
    @Optional() private readonly consumer?: StreamConsumer,
    @Optional() private readonly monitor?: StreamMonitor,
  ) {}

  /**
   * The stream consumer loop is running and reading, with its lag; up with `consumer: 'off'` without Redis.
   * `consumer: 'failing'` with the last error from a failed read (or any failed step of the loop) until a read
   * succeeds, and as soon as a read overruns BLOCK + 1 s (Redis frozen, a half-dead connection): computed on
   * request, so it is never older than the request. Failing is `down` for a gateway whose only input is the
   * stream, and `up` with `degraded: true` for one with a bridge receiver, which still delivers what the
   * publishers' fallback sends it. On a Redis Cluster each shard has its reader: `shards` lists the ones failing
   * (or that the monitor could not check) with their errors; some failing is `up` with `degraded: true` (the other
   * shards deliver, and the publishers send the failing shards' envelopes over the bridge), all failing is as above.
   */
  isHealthy<const Key extends string = 'realtime_gateway'>(key: Key = 'realtime_gateway' as Key) {
    const indicator = healthCheck(key);
    const connections = this.registry.size;
    if (!this.consumer) return indicator.up({ connections, consumer: 'off' });
    const consumer = this.consumer.health();
    const details = {
      connections,
      consumer: consumer.state,
      ...(consumer.lastError !== undefined ? { lastError: consumer.lastError } : {}),
      lastReadMsAgo: consumer.lastReadMsAgo,
      blockMs: this.options.redis?.blockMs ?? null,
      lag: this.monitor?.lag ?? null,
      pending: this.monitor?.pending ?? null,
      // Publishers write streams this gateway does not read: degraded, whatever the consumer says.
      ...(this.monitor?.layoutMismatch ? { degraded: true, streamLayoutMismatch: this.monitor.layoutMismatch } : {}),
    };
    const shards = this.consumer.shardHealth();
    if (shards.length > 1) {
      const failing = shards.filter((s) => s.state !== 'running');
      const monitorErrors = this.monitor?.shardErrors ?? new Map<string, string>();
      const problems = [
        ...failing.map((s) => ({ stream: s.stream, state: s.state, error: s.lastError ?? s.state })),
        ...[...monitorErrors]
          .filter(([stream]) => !failing.some((s) => s.stream === stream))
          .map(([stream, error]) => ({ stream, state: 'unchecked', error })),
      ];
      const withShards = { ...details, shards: { total: shards.length, failing: problems } };
      if (problems.length === 0) return indicator.up(withShards);
      if (failing.length < shards.length) return indicator.up({ ...withShards, degraded: true });
      return this.options.bridge ? indicator.up({ ...withShards, degraded: true }) : indicator.down(withShards);
    }
    if (consumer.state === 'running') return indicator.up(details);
    return this.options.bridge ? indicator.up({ ...details, degraded: true }) : indicator.down(details);
  }

  /** Redis reachability from the gateway (a PING with a timeout); `up` with `used: false` without Redis. */
  async isRedisHealthy<const Key extends string = 'redis'>(key: Key = 'redis' as Key, timeoutMs = 500) {
    const indicator = healthCheck(key);
    // Not used is not down: a gateway fed by the bridge or in process has no Redis to reach.
    if (!this.monitor) return indicator.up({ used: false });
    try {
      await this.monitor.ping(timeoutMs);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}
