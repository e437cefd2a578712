import { Logger } from '@nestjs/common';
import type { TransportName } from '../transports/realtime-transport.interface';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { errorMessage, withTimeout } from '@realtime-streams/common';
import type { ChainLink } from './fallback-chain';

export interface ProbeResult {
  readonly healthy: boolean;
  readonly at: number;
  readonly error?: string;
  /** When the current run of failed probes began (set while `healthy` is false). */
  readonly failingSince?: number;
}

/**
 * Probes every transport on an interval and feeds the outcome to its breaker: this is how an open breaker learns
 * that its transport is back, and how a breaker opens before an envelope had to fail. A probe never overlaps the
 * previous one of the same transport, so a hung transport costs one pending probe, not one per tick.
 *
 * A probe must fail whenever a publish would: Redis Streams probes with a write on the publishing path (see
 * redis-write-probe.ts), so a Redis that answers PING but refuses writes keeps its breaker open instead of closing
 * it again every `openMs`. Whatever `health()` rejects with counts as a failure (a refusal like a timeout); only
 * `TransportDisconnectedError` opens the breaker at once.
 *
 * The last result is also what health reports: a failed or timed-out probe shows at once (within one interval plus
 * the probe timeout), while the breaker still waits for its failure threshold before moving traffic, because every
 * opening switches transports and replays the replay window; one slow probe should not cause that.
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

  /**
   * A check made outside the interval (a `/health` request's own probe) failed: health reports it at once. The
   * breaker is left alone, so how often `/health` is called never changes where traffic goes; the next periodic
   * probe has the last word.
   */
  reportFailure(name: TransportName, error: string): void {
    if (this.last.get(name)?.healthy) this.logger.warn(`${name} failed a health check: ${error}`);
    this.recordFailure(name, error);
  }

  private recordFailure(name: TransportName, error: string): void {
    const previous = this.last.get(name);
    const at = Date.now();
    const failingSince = previous && !previous.healthy ? (previous.failingSince ?? previous.at) : at;
    this.last.set(name, { healthy: false, at, error, failingSince });
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
      this.recordFailure(name, errorMessage(error));
      if (error instanceof TransportDisconnectedError) link.breaker.trip();
      else link.breaker.recordProbe(false);
    } finally {
      this.running.delete(name);
    }
  }
}
