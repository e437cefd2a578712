import type { RealtimeRoutingFlags } from '../realtime-transport-options.interface';
import type { TransportName } from '../transports/realtime-transport.interface';
import { percentagePoint } from '@realtime-streams/contracts';

/** Where one envelope goes: the transports in preference order, and whether it is written to all of them. */
export interface RoutePlan {
  readonly order: readonly TransportName[];
  /** Write to every available transport of `order` (dual write) instead of the first available one. */
  readonly dual: boolean;
}

/**
 * Chooses the transports of an envelope from the routing flags and a stable hash of its target. The few possible
 * plans are built once per flag change, so routing an envelope costs one hash.
 */
export class TransportRouter {
  private redisFirst!: RoutePlan;
  private httpFirst!: RoutePlan;
  private percentage = 100;
  private everyEnvelope?: RoutePlan;
  private appliedVersion = 0;

  constructor(
    private readonly configured: readonly TransportName[],
    flags: RealtimeRoutingFlags,
  ) {
    this.apply(flags);
  }

  /** Rebuilds the plans for new flags; envelopes routed afterwards follow them. */
  apply(flags: RealtimeRoutingFlags): void {
    this.appliedVersion++;
    const has = (name: TransportName) => this.configured.includes(name);
    this.everyEnvelope = undefined;
    if (has('in-process')) {
      this.everyEnvelope = this.plan(['in-process'], false);
      return;
    }
    const redis = flags.useRedisStreams && has('redis-streams');
    const http = has('http-bridge');
    this.percentage = redis ? flags.redisStreamsPercentage : 0;
    if (redis && http && flags.dualWrite) {
      this.everyEnvelope = this.plan(['redis-streams', 'http-bridge'], true);
      return;
    }
    this.redisFirst = this.plan(flags.fallbackToHttp ? ['redis-streams', 'http-bridge'] : ['redis-streams'], false);
    // Targets kept on the bridge may still use Redis when the bridge is down, unless Redis is switched off.
    this.httpFirst = this.plan(redis ? ['http-bridge', 'redis-streams'] : ['http-bridge'], false);
  }

  /** Changes whenever the flags do, so cached routes can tell they are stale. */
  get version(): number {
    return this.appliedVersion;
  }

  /** The plan most targets follow: what the health check calls the primary path. */
  primaryPlan(): RoutePlan {
    if (this.everyEnvelope) return this.everyEnvelope;
    return this.percentage > 0 ? this.redisFirst : this.httpFirst;
  }

  route(targetKey: string): RoutePlan {
    if (this.everyEnvelope) return this.everyEnvelope;
    if (this.percentage >= 100) return this.redisFirst;
    if (this.percentage <= 0) return this.httpFirst;
    return percentagePoint(targetKey) < this.percentage ? this.redisFirst : this.httpFirst;
  }

  /** Keeps the configured transports of a plan; with none of them configured, any configured one will do. */
  private plan(preferred: TransportName[], dual: boolean): RoutePlan {
    const order = preferred.filter((name) => this.configured.includes(name));
    return { order: order.length > 0 ? order : [...this.configured], dual };
  }
}
