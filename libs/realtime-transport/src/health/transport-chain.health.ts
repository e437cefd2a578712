import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { FallbackChain } from '../fallback/fallback-chain';
import { HealthProber } from '../fallback/health-prober';

/**
 * Which transport carries events now. `up` while any transport does, with `degraded: true` while it is not the
 * preferred one (Redis down, events on the HTTP bridge); `down` only when no transport works. Never throws.
 */
@Injectable()
export class TransportChainHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly chain: FallbackChain,
    private readonly prober: HealthProber,
  ) {}

  isAvailable<const Key extends string = 'realtime_transport'>(key: Key = 'realtime_transport' as Key) {
    const indicator = this.health.check(key);
    const active = this.chain.activeTransport;
    const preferred = this.chain.preferredTransport;
    const transports: Record<string, { breaker: string; lastProbe?: string }> = {};
    for (const link of this.chain.chainLinks) {
      const probe = this.prober.lastResult(link.transport.name);
      transports[link.transport.name] = {
        breaker: link.breaker.state,
        lastProbe: probe ? (probe.healthy ? 'ok' : probe.error) : undefined,
      };
    }
    const details = { active, preferred, degraded: active !== preferred, pending: this.chain.pendingCount, transports };
    return active === 'none' ? indicator.down(details) : indicator.up(details);
  }
}
