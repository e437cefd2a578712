import { Injectable } from '@nestjs/common';
import { healthCheck } from '@realtime-streams/common';
import { FallbackChain } from '../fallback/fallback-chain';
import { HealthProber } from '../fallback/health-prober';
import { HttpBridgeTransport } from '../transports/http-bridge.transport';

interface TransportDetails {
  breaker: string;
  lastProbe?: string;
  /** ISO time the current run of failed probes began. */
  failingSince?: string;
  /** HTTP bridge only: each gateway instance's lane. */
  instances?: Array<{ url: string; up: boolean; queued: number; lastError?: string }>;
}

/**
 * Which transport carries events now, and which ones are failing. `up` while any transport works, with
 * `degraded: true` while the preferred one is not in use (Redis down, events on the HTTP bridge) or its last probe
 * failed: a transport that stops answering shows in `failing`, with its last probe error, as soon as one probe
 * failed or timed out, without waiting for the breaker's failure threshold. `down` when no transport works (every
 * breaker open or every last probe failed). Never throws.
 */
@Injectable()
export class TransportChainHealthIndicator {
  constructor(
    private readonly chain: FallbackChain,
    private readonly prober: HealthProber,
  ) {}

  isAvailable<const Key extends string = 'realtime_transport'>(key: Key = 'realtime_transport' as Key) {
    const indicator = healthCheck(key);
    const active = this.chain.activeTransport;
    const preferred = this.chain.preferredTransport;
    const transports: Record<string, TransportDetails> = {};
    const failing: Array<{ transport: string; error: string; since?: string }> = [];
    let working = 0;
    for (const link of this.chain.chainLinks) {
      const name = link.transport.name;
      const probe = this.prober.lastResult(name);
      const breaker = link.breaker.state;
      const details: TransportDetails = {
        breaker,
        lastProbe: probe ? (probe.healthy ? 'ok' : probe.error) : undefined,
      };
      if (probe && !probe.healthy) {
        details.failingSince = new Date(probe.failingSince ?? probe.at).toISOString();
        failing.push({ transport: name, error: probe.error ?? 'probe failed', since: details.failingSince });
      } else if (breaker !== 'closed') {
        failing.push({ transport: name, error: `breaker ${breaker}` });
      } else {
        working++;
      }
      if (link.transport instanceof HttpBridgeTransport) {
        details.instances = link.transport.lanes.map((lane) => ({
          url: lane.url.href,
          up: lane.up,
          queued: lane.depth,
          ...(lane.lastError ? { lastError: lane.lastError } : {}),
        }));
      }
      transports[name] = details;
    }
    const degraded = active !== preferred || failing.some((f) => f.transport === preferred);
    const details = { active, preferred, degraded, pending: this.chain.pendingCount, failing, transports };
    return active === 'none' || working === 0 ? indicator.down(details) : indicator.up(details);
  }
}
