import type { OutboxRelay } from '../outbox/outbox-relay';
import type { OutboxDeferReason } from '../outbox/outbox.metrics';
import type { RealtimeTransport } from '../transports/realtime-transport.interface';
import type { OutboxOutcomes } from './envelope-ledger';

/**
 * Between the ledger and the outbox relay: an acknowledged envelope's record is removed only once every part of
 * the transport that needed it is done with it. The HTTP bridge acknowledges at the first gateway instance while
 * its other lanes still hold the envelope; removing the record then would lose a slower lane's backlog with the
 * api. So the acknowledgement waits for the transport's `settlementOf(id)`: `true` (every lane delivered it, or gave
 * it up and told its instance) removes the record, `false` (the api stopped first) leaves it for the next start.
 */
export class SettledOutboxOutcomes implements OutboxOutcomes {
  private waiting = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly relay: Pick<OutboxRelay, 'acknowledged' | 'defer' | 'endTurn'>,
    private readonly transports: readonly RealtimeTransport[],
    /** Called when the last awaited settlement came in (the chain's idle waiters may resolve). */
    private readonly onIdle: () => void,
  ) {
    for (const transport of transports) transport.trackSettlements?.();
  }

  /** No acknowledgement waits for a settlement. */
  get idle(): boolean {
    return this.waiting === 0;
  }

  acknowledged(id: string): void {
    for (const transport of this.transports) {
      const settlement = transport.settlementOf?.(id);
      if (!settlement) continue;
      this.waiting++;
      void settlement.then((complete) => this.settled(id, complete));
      return;
    }
    this.relay.acknowledged(id);
  }

  defer(id: string, reason: OutboxDeferReason): void {
    this.relay.defer(id, reason);
  }

  /** Shutdown: the relay is closing, settlements that come later leave their records for the next start. */
  close(): void {
    this.closed = true;
  }

  private settled(id: string, complete: boolean): void {
    this.waiting--;
    if (this.closed) return;
    if (complete) this.relay.acknowledged(id);
    else this.relay.defer(id, 'shutdown');
    // Settlements come outside the chain's turns: one removal call for all that came in this loop turn.
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.closed) this.relay.endTurn();
      if (this.idle) this.onIdle();
    });
  }
}
