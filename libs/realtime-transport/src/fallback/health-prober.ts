import { Logger } from '@nestjs/common';
import type { TransportName } from '../transports/realtime-transport.interface';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { errorMessage } from '../util/error-message';
import { withTimeout } from '../util/with-timeout';
import type { ChainLink } from './fallback-chain';

export interface ProbeResult {
  readonly healthy: boolean;
  readonly at: number;
  readonly error?: string;
}

/**
 * Probes every transport on an interval and feeds the outcome to its breaker: this is how an open breaker learns
 * that its transport is back, and how a breaker opens before an envelope had to fail. A probe never overlaps the
 * previous one of the same transport, so a hung transport costs one pending probe, not one per tick.
 */
export class HealthProber {
  private readonly logger = new Logger('RealtimeHealthProber');
  private readonly last = new Map<TransportName, ProbeResult>();
  private readonly running = new Set<TransportName>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly links: readonly ChainLink[],
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.probeAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  lastResult(name: TransportName): ProbeResult | undefined {
    return this.last.get(name);
  }

  /** Probes every transport now; resolves when all answered or timed out. */
  async probeAll(): Promise<void> {
    await Promise.all(this.links.map((link) => this.probe(link)));
  }

  private async probe(link: ChainLink): Promise<void> {
    const name = link.transport.name;
    if (this.running.has(name)) return;
    this.running.add(name);
    try {
      await withTimeout(link.transport.health(), this.timeoutMs, `${name} health probe`);
      this.last.set(name, { healthy: true, at: Date.now() });
      link.breaker.recordProbe(true);
    } catch (error) {
      const previous = this.last.get(name);
      // The very first probe may run before this process's own HTTP server listens (a bridge to itself): a real
      // outage shows again on the next probe, which is logged.
      if (previous === undefined) this.logger.debug(`${name} first health probe failed: ${errorMessage(error)}`);
      else if (previous.healthy) this.logger.warn(`${name} health probe failed: ${errorMessage(error)}`);
      this.last.set(name, { healthy: false, at: Date.now(), error: errorMessage(error) });
      if (error instanceof TransportDisconnectedError) link.breaker.trip();
      else link.breaker.recordProbe(false);
    } finally {
      this.running.delete(name);
    }
  }
}
