import { Logger } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { errorMessage } from '@realtime-streams/common';
import type { OutboxDeferReason, OutboxMetrics } from './outbox.metrics';
import { OutboxRemovals } from './outbox-removals';
import type { OutboxCursor, OutboxStore, StoredOutboxRecord } from './outbox-store.interface';
import { outboundOf } from './prepared-envelope';

/** What the relay needs from the fallback chain. */
export interface OutboxChainPort {
  /** Places free in the pending buffer. */
  readonly room: number;
  readonly capacity: number;
  /** Outboxed envelopes the buffer holds. */
  readonly heldCount: number;
  /** Puts records read from the store at the tail of the buffer, as outboxed entries, and schedules a write. */
  admit(outbounds: readonly OutboundEnvelope[]): void;
  /** Adds the ids of the outboxed envelopes the buffer holds. */
  collectHeldIds(into: Set<string>): void;
  /** The relay or the removals went idle: the chain may resolve its `whenIdle` waiters. */
  outboxIdle(): void;
}

export interface OutboxRelaySettings {
  relayBatchSize: number;
  retryMs: number;
}

/**
 * The library's half of the transactional outbox. The store is the write-ahead copy of every outboxed envelope; the
 * normal path never reads it: envelopes are published from memory at once and their records removed in batches
 * once a transport acknowledged them.
 *
 * The relay reads the store only when memory does not have the envelopes:
 * - at start, for what a previous process left (crash, shutdown deadline);
 * - after an overflow ("spill"): an outboxed envelope that finds the buffer full is not dropped, it stays in the
 *   store only.
 * From the first spill (and from construction until the start-up read caught up), every outboxed envelope goes
 * through the store ("holding"), so nothing overtakes what waits there: the relay admits records to the buffer in
 * store order, as room frees, and holding ends when a read that began after the last spill found nothing more.
 *
 * Records also held in memory (published before the spill) or delivered and not removed yet are skipped by id.
 */
export class OutboxRelay {
  private readonly logger = new Logger('RealtimeOutbox');
  readonly removals: OutboxRemovals;
  private port?: OutboxChainPort;
  private holdingNow = true;
  private started = false;
  private closed = false;
  private reading = false;
  private retryTimer?: NodeJS.Timeout;
  private cursor?: OutboxCursor;
  /** Envelopes that went through the store only, ever (a read is complete only if none arrived during it). */
  private spills = 0;
  /** First envelope that went through the store only since holding began, and whether the relay reached it. */
  private firstSpilledId?: string;
  private reachedSpilled = false;
  /** Spilled envelopes the relay has not read back yet (for the pending gauge). */
  private spilledWaiting = 0;
  private deferred = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly settings: OutboxRelaySettings,
    private readonly metrics: OutboxMetrics,
  ) {
    this.removals = new OutboxRemovals(store, metrics, settings.retryMs);
    this.removals.onIdle(() => this.port?.outboxIdle());
  }

  bind(port: OutboxChainPort): void {
    this.port = port;
  }

  /** Outboxed envelopes must go through the store now (start-up read not done, or a spill not caught up). */
  get holding(): boolean {
    return this.holdingNow;
  }

  /** Nothing to read back and nothing to remove. */
  get idle(): boolean {
    return (!this.holdingNow || this.closed) && !this.reading && this.removals.idle;
  }

  /** Starts the relay: reads what a previous process left, then follows spills. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.wake();
  }

  /** An outboxed envelope did not enter the buffer: it waits in the store. */
  spill(outbound: OutboundEnvelope): void {
    this.spills++;
    this.spilledWaiting++;
    this.metrics.outboxSpilled(1);
    this.reportPending();
    if (this.firstSpilledId === undefined) {
      this.firstSpilledId = outbound.envelope.id;
      this.reachedSpilled = false;
    }
    if (!this.holdingNow) {
      this.holdingNow = true;
      this.logger.warn(
        'Pending buffer full: outboxed envelopes now go through the outbox store (nothing is dropped) until the ' +
          'relay has caught up',
      );
    }
    this.wake();
  }

  /** A transport acknowledged an outboxed envelope: its record goes with the next removal batch. */
  acknowledged(id: string): void {
    this.removals.add(id);
  }

  /**
   * Shutdown: an outboxed envelope left the buffer without being published; its record stays for the next start.
   * Nothing else defers: while the process runs, an outboxed envelope waits in the buffer or in the store until a
   * transport takes it, so a read never has to skip one.
   */
  defer(_id: string, reason: OutboxDeferReason): void {
    this.deferred++;
    this.metrics.outboxDeferred(reason, 1);
  }

  /** End of a chain turn: one removal call for what the turn delivered, and a read if the relay is behind. */
  endTurn(): void {
    this.removals.flush();
    this.reportPending();
    this.wake();
  }

  /**
   * Shutdown: no more reads. Returns how many envelopes this process knows it leaves in the store (spilled and
   * never read back), counted as deferred for the next start.
   */
  close(): number {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.removals.close();
    const left = this.holdingNow ? this.spilledWaiting : 0;
    if (left > 0) this.metrics.outboxDeferred('shutdown', left);
    this.deferred += left;
    this.spilledWaiting = 0;
    this.reportPending();
    return left;
  }

  private reportPending(): void {
    this.metrics.outboxPending((this.port?.heldCount ?? 0) + this.spilledWaiting + this.deferred);
  }

  /** Reads when holding and the buffer has room for a useful batch; a no-op otherwise (cheap: every turn calls it). */
  private wake(): void {
    if (!this.holdingNow || !this.started || this.closed || this.reading || this.retryTimer || !this.port) return;
    this.read();
  }

  /** Room worth a read: a full batch, or half the buffer when the buffer is smaller than a batch. */
  private threshold(): number {
    return Math.max(1, Math.min(this.settings.relayBatchSize, Math.floor(this.port!.capacity / 2)));
  }

  /**
   * Reads pages while holding and there is room. A synchronous store is read synchronously, so holding ends in the
   * same turn as the read that caught up (nothing published meanwhile has to wait for a later read).
   */
  private read(): void {
    const port = this.port!;
    while (this.holdingNow && !this.closed) {
      const room = port.room;
      if (room < this.threshold()) return; // the next turn that frees room wakes the relay again
      const limit = Math.min(this.settings.relayBatchSize, room);
      const spillsBefore = this.spills;
      let result: readonly StoredOutboxRecord[] | Promise<readonly StoredOutboxRecord[]>;
      try {
        result = this.store.pending(limit, this.cursor);
      } catch (error) {
        this.readFailed(error);
        return;
      }
      if (isPromise(result)) {
        this.reading = true;
        result.then(
          (page) => {
            this.reading = false;
            if (this.closed) return;
            this.consume(page, limit, spillsBefore);
            this.wake();
            if (this.idle) port.outboxIdle();
          },
          (error: unknown) => {
            this.reading = false;
            this.readFailed(error);
          },
        );
        return;
      }
      this.consume(result, limit, spillsBefore);
    }
    if (this.idle) port.outboxIdle();
  }

  private consume(page: readonly StoredOutboxRecord[], limit: number, spillsBefore: number): void {
    if (page.length > 0) this.admit(page);
    // Complete only if nothing spilled while the read ran: a record committed then may not be in this page.
    if (page.length < limit && this.spills === spillsBefore) this.caughtUp();
  }

  private readFailed(error: unknown): void {
    this.metrics.outboxStoreError('pending');
    this.logger.error(`Outbox store failed to read pending records (retrying): ${errorMessage(error)}`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, this.settings.retryMs);
    this.retryTimer.unref();
  }

  private admit(page: readonly StoredOutboxRecord[]): void {
    const port = this.port!;
    const skip = new Set<string>();
    port.collectHeldIds(skip);
    this.removals.collectIds(skip);
    const admitted: OutboundEnvelope[] = [];
    for (const record of page) {
      if (!this.reachedSpilled && record.id === this.firstSpilledId) this.reachedSpilled = true;
      if (skip.has(record.id)) continue;
      let outbound: OutboundEnvelope;
      try {
        outbound = outboundOf(record);
      } catch (error) {
        // A record the store garbled can never be published: leave it (and say so) rather than stall the relay.
        this.logger.error(`Outbox record ${record.id} is not an envelope (${errorMessage(error)}); skipped`);
        continue;
      }
      admitted.push(outbound);
      if (this.reachedSpilled && this.spilledWaiting > 0) this.spilledWaiting--;
    }
    this.cursor = page[page.length - 1].cursor;
    if (admitted.length > 0) {
      this.metrics.outboxRelayed(admitted.length);
      port.admit(admitted);
    }
  }

  private caughtUp(): void {
    this.holdingNow = false;
    if (this.spills > 0 && this.firstSpilledId !== undefined) {
      this.logger.log('Outbox relay caught up: outboxed envelopes are published from memory again');
    }
    this.firstSpilledId = undefined;
    this.reachedSpilled = false;
    this.spilledWaiting = 0;
    this.reportPending();
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
