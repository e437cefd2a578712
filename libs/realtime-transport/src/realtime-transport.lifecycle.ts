import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EventCoalescer } from './coalescing/event.coalescer';
import { FallbackChain } from './fallback/fallback-chain';
import { HealthProber } from './fallback/health-prober';
import { REALTIME_TRANSPORTS, RESOLVED_REALTIME_OPTIONS } from './realtime-transport.constants';
import type { ResolvedRealtimeTransportOptions } from './realtime-transport-options.interface';
import type { RealtimeTransport } from './transports/realtime-transport.interface';

/**
 * Starts the transports and the health prober with the application, and on shutdown flushes waiting envelopes
 * within the deadline before closing connections: no timer or socket outlives the app.
 */
@Injectable()
export class RealtimeTransportLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('RealtimeTransport');

  constructor(
    @Inject(REALTIME_TRANSPORTS) private readonly transports: readonly RealtimeTransport[],
    @Inject(RESOLVED_REALTIME_OPTIONS) private readonly options: ResolvedRealtimeTransportOptions,
    private readonly chain: FallbackChain,
    private readonly prober: HealthProber,
    private readonly coalescer: EventCoalescer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.transports.map((transport) => transport.start()));
    // What a previous process left in the outbox goes out first, in order; not awaited (the relay reads as the
    // buffer has room, and new outboxed envelopes queue behind it in the store).
    this.chain.outboxRelay?.start();
    // Not awaited: bootstrap hooks run before the HTTP server listens, and a bridge to this very process answers
    // only afterwards.
    void this.prober.probeAll();
    this.prober.start();
    this.logger.log(
      `Transports: ${this.transports.map((t) => t.name).join(' -> ')}; active: ${this.chain.activeTransport}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Pending coalesced states (a final "stopped typing") join the buffer first, so the flush carries them too.
    this.coalescer.flush();
    const waiting = this.chain.pendingCount;
    const { dropped, leftInOutbox } = await this.chain.flush(this.options.shutdownTimeoutMs);
    if (leftInOutbox > 0) {
      this.logger.warn(
        `Shutdown: ${leftInOutbox} outboxed envelopes could not be published within ` +
          `${this.options.shutdownTimeoutMs} ms; they stay in the outbox and go out at the next start`,
      );
    }
    if (dropped > 0) {
      this.logger.error(
        `Shutdown: ${dropped} envelopes could not be published within ${this.options.shutdownTimeoutMs} ms and were dropped`,
      );
    } else if (waiting > 0 && leftInOutbox === 0) {
      this.logger.log(`Shutdown: flushed ${waiting} waiting envelopes`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.prober.stop();
    await Promise.all(this.transports.map((transport) => transport.close()));
  }
}
