import type { RealtimeRoutingFlags } from '../realtime-transport-options.interface';
import type { TransportName } from '../transports/realtime-transport.interface';
import { percentagePoint } from '@realtime-streams/contracts';

/** Where one envelope goes: the transports in preference order, and whether it is written to all of them. */
export interface RoutePlan {
  readonly order: readonly TransportName[];
  /** Write to every available transport of `order` (dual write) instead of the first available one. */
  readonly dual: boolean;
}

/** Transports in the order the chain prefers them when the flags let them carry traffic. */
const PREFERENCE: readonly TransportName[] = ['in-process', 'redis-streams', 'http-bridge'];

/**
 * Chooses the transports of an envelope: the transports the flags enable, in preference order, with a share of the
 * targets (a stable hash of the target, so a room never splits) starting at the first and the others starting at the
 * next, the first last. The flags map onto that list: `useRedisStreams` enables Redis Streams, its percentage is the
 * first one's share, `fallbackToHttp` lets the share fall back to the rest, `dualWrite` writes to every one. The few
 * possible plans are built once per flag change, so routing an envelope costs one hash.
 */
export class TransportRouter {
  /** The targets in the first transport's share, and the others. */
  private inShare!: RoutePlan;
  private outOfShare!: RoutePlan;
  private share = 100;
  private appliedVersion = 0;

  constructor(
    private readonly configured: readonly TransportName[],
    flags: RealtimeRoutingFlags,
    /** `transport: 'dual'`: every envelope to every enabled transport, whatever `dualWrite` says. */
    private readonly alwaysDual = false,
  ) {
    this.apply(flags);
  }

  /** Rebuilds the plans for new flags; envelopes routed afterwards follow them. */
  apply(flags: RealtimeRoutingFlags): void {
    this.appliedVersion++;
    // In-process, when configured, carries everything on its own (single node, tests).
    const enabled = this.configured.includes('in-process')
      ? (['in-process'] as const)
      : PREFERENCE.filter(
          (name) => this.configured.includes(name) && (name !== 'redis-streams' || flags.useRedisStreams),
        );
    const [first, ...rest] = enabled;
    const dual = enabled.length > 1 && (flags.dualWrite || this.alwaysDual);
    this.share = first === 'redis-streams' && !dual ? flags.redisStreamsPercentage : 100;
    this.inShare = this.plan(dual || flags.fallbackToHttp ? enabled : enabled.slice(0, 1), dual);
    // Targets kept off the first transport may still use it when theirs is down.
    this.outOfShare = this.plan(first === undefined ? [] : [...rest, first], false);
  }

  /** Changes whenever the flags do, so cached routes can tell they are stale. */
  get version(): number {
    return this.appliedVersion;
  }

  /** The plan most targets follow: what the health check calls the primary path. */
  primaryPlan(): RoutePlan {
    return this.share > 0 ? this.inShare : this.outOfShare;
  }

  route(targetKey: string): RoutePlan {
    if (this.share >= 100) return this.inShare;
    if (this.share <= 0) return this.outOfShare;
    return percentagePoint(targetKey) < this.share ? this.inShare : this.outOfShare;
  }

  /** Keeps the configured transports of a plan; with none of them configured, any configured one will do. */
  private plan(preferred: readonly TransportName[], dual: boolean): RoutePlan {
    const order = preferred.filter((name) => this.configured.includes(name));
    return { order: order.length > 0 ? order : [...this.configured], dual };
  }
}
