import { Logger } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import type { OutboxRelay } from '../outbox/outbox-relay';
import type { TransportName } from '../transports/realtime-transport.interface';
import type { FallbackChainMetrics } from './fallback-chain.metrics';
import { type BufferEntry, type DropReason, PendingBuffer } from './pending-buffer';

export interface EnvelopeLedgerSettings {
  bufferCapacity: number;
  maxAttemptsPerEnvelope: number;
  /** Only named in the replay log line: the chain decides what is replayed. */
  replayWindowMs: number;
  /** Time an outboxed envelope out of attempts waits between tries (the chain passes the breaker's `openMs`). */
  stalledRetryMs: number;
}

/** The part of the outbox relay told what became of outboxed envelopes. */
export type OutboxOutcomes = Pick<OutboxRelay, 'acknowledged' | 'defer'>;

/**
 * Says where an envelope goes on this attempt by calling `sendTo` once per transport (twice under dual write);
 * not calling it leaves the envelope waiting.
 */
export type Dispatch<D> = (entry: BufferEntry, sendTo: (destination: D) => void) => void;

/**
 * Every state change of an envelope on its way out, in one place: queued, in flight, then acknowledged (removed,
 * its outbox record released), failed and left waiting for another attempt, out of attempts (dropped; or, with an
 * outbox record, stalled: see `outOfAttempts`), dropped for room or at shutdown, or replayed after a transport that
 * may have lost it failed. The fallback chain decides where and when envelopes go; this class records what
 * happened to them. Destinations are opaque (`D`) apart from their bit in `BufferEntry.failedMask`.
 *
 * Memory: outboxed envelopes, stalled ones included, are held within the buffer's capacity (plus at most one relay
 * batch, see `admitOutboxed`); an outboxed envelope that finds no room waits in the outbox store, and the relay
 * brings it back in order as room frees.
 */
export class EnvelopeLedger {
  // The chain's context: these log lines were the chain's, and keep reading as they did.
  private readonly logger = new Logger('RealtimeFallbackChain');
  private readonly buffer: PendingBuffer;
  private outbox?: OutboxOutcomes;
  private nextRetry?: number;
  /** A stall was logged and no stalled envelope went out since (one warning per outage, not one per envelope). */
  private stallLogged = false;

  constructor(
    private readonly settings: EnvelopeLedgerSettings,
    private readonly metrics: Pick<FallbackChainMetrics, 'dropped' | 'replayed'>,
    private readonly now: () => number = Date.now,
  ) {
    this.buffer = new PendingBuffer(settings.bufferCapacity, (entry, reason) => this.onDrop(entry, reason));
  }

  /** Where outboxed envelopes are acknowledged or deferred (once, before any is queued). */
  attachOutbox(outbox: OutboxOutcomes): void {
    this.outbox = outbox;
  }

  /** Envelopes held, waiting or in flight. */
  get size(): number {
    return this.buffer.size;
  }

  get capacity(): number {
    return this.buffer.capacity;
  }

  /** Outboxed envelopes held, waiting or in flight. */
  get outboxedCount(): number {
    return this.buffer.outboxedCount;
  }

  collectOutboxedIds(into: Set<string>): void {
    for (let entry = this.buffer.firstOutboxed; entry; entry = entry.nextOfKind) into.add(entry.outbound.envelope.id);
  }

  /** Queues an envelope without an outbox record; when full, the buffer's eviction order decides what is dropped. */
  enqueue(outbound: OutboundEnvelope): void {
    this.buffer.push(outbound);
  }

  /** Queues an outboxed envelope; false when there is no room (it then waits in the store). */
  enqueueOutboxed(outbound: OutboundEnvelope): boolean {
    return this.buffer.push(outbound, true);
  }

  /** Queues outboxed envelopes the relay read back, whatever the room (at most one relay batch over). */
  admitOutboxed(outbounds: readonly OutboundEnvelope[]): void {
    for (const outbound of outbounds) this.buffer.push(outbound, true, true);
  }

  /** When the earliest stalled envelope seen by the last `takeBatches` is due again (epoch ms), if any. */
  get nextRetryAt(): number | undefined {
    return this.nextRetry;
  }

  /**
   * Puts the next waiting envelopes in flight, in order, at most `maxBatchSize` of them, grouped by destination.
   * Envelopes `dispatch` sends nowhere keep waiting, and later ones may overtake them. A stalled envelope not due
   * yet is skipped, and so are its target's newer envelopes: they never overtake it.
   */
  takeBatches<D>(maxBatchSize: number, dispatch: Dispatch<D>): Map<D, BufferEntry[]> {
    const batches = new Map<D, BufferEntry[]>();
    // One callback for the whole batch rather than one closure per envelope: this runs for every envelope sent.
    let current!: BufferEntry;
    let writes = 0;
    const sendTo = (destination: D): void => {
      addTo(batches, destination, current);
      writes++;
    };
    let taken = 0;
    const now = this.now();
    // Targets with a stalled envelope that is not due yet (only allocated when there is one).
    let behindStalled: Set<string> | undefined;
    this.nextRetry = undefined;
    for (let entry = this.buffer.first; entry && taken < maxBatchSize; entry = entry.next) {
      if (entry.inFlight) continue;
      if (entry.retryAt > now) {
        (behindStalled ??= new Set()).add(entry.outbound.targetKey);
        if (this.nextRetry === undefined || entry.retryAt < this.nextRetry) this.nextRetry = entry.retryAt;
        continue;
      }
      if (behindStalled?.has(entry.outbound.targetKey)) continue;
      current = entry;
      writes = 0;
      dispatch(entry, sendTo);
      if (writes === 0) continue;
      entry.writesPending = writes;
      entry.inFlight = true;
      entry.delivered = false;
      taken++;
    }
    return batches;
  }

  /** Whether the envelope failed on that transport since its last fresh round. */
  hasFailedOn(entry: BufferEntry, transportBit: number): boolean {
    return (entry.failedMask & transportBit) !== 0;
  }

  /** Every available transport failed the envelope: it may go back to any of them. */
  startFreshRound(entry: BufferEntry): void {
    entry.failedMask = 0;
  }

  /** One write of the envelope's current attempt was acknowledged. */
  acknowledge(entry: BufferEntry): void {
    entry.delivered = true;
    this.writeAnswered(entry);
  }

  /** One write of the envelope's current attempt failed on the transport with that bit; it counts as an attempt. */
  fail(entry: BufferEntry, transportBit: number): void {
    entry.failedMask |= transportBit;
    entry.attempts++;
    this.writeAnswered(entry);
  }

  /**
   * The transport with that bit failed and may have lost what it acknowledged lately: those envelopes go back to the
   * head of the buffer, same ids, not to that transport first.
   */
  replay(transport: TransportName, transportBit: number, outbounds: readonly OutboundEnvelope[]): void {
    if (outbounds.length === 0) return;
    this.buffer.pushFront(outbounds, transportBit);
    this.metrics.replayed(transport, outbounds.length);
    this.logger.warn(
      `${transport} failed: replaying ${outbounds.length} envelopes it acknowledged in the last ` +
        `${this.settings.replayWindowMs} ms (the gateways drop those they already delivered)`,
    );
  }

  /** A breaker closed: stalled envelopes are due at once, so they go out ahead of their targets' newer ones. */
  retryStalledNow(): void {
    for (let entry = this.buffer.firstOutboxed; entry; entry = entry.nextOfKind) entry.retryAt = 0;
  }

  /**
   * Shutdown: outboxed envelopes not in flight leave the buffer, their records staying in the store for the next
   * start. Returns how many.
   */
  leaveWaitingInOutbox(): number {
    const ids = this.buffer.releaseWaitingOutboxed();
    for (const id of ids) this.outbox!.defer(id, 'shutdown');
    return ids.length;
  }

  /** Shutdown: drops what is still waiting and has no outbox record, counted. Returns how many. */
  dropWaiting(): number {
    return this.buffer.dropWaiting('shutdown');
  }

  /** Settles the attempt once its last write answered: delivered, given up, or waiting for the next attempt. */
  private writeAnswered(entry: BufferEntry): void {
    if (--entry.writesPending > 0) return;
    entry.inFlight = false;
    if (entry.delivered) {
      this.buffer.remove(entry);
      if (!entry.outboxed) return;
      this.outbox!.acknowledged(entry.outbound.envelope.id);
      if (this.stallLogged && entry.attempts >= this.settings.maxAttemptsPerEnvelope) {
        this.stallLogged = false;
        this.logger.log(`Outboxed envelopes that had failed ${entry.attempts} times or more are going out again`);
      }
    } else if (entry.attempts >= this.settings.maxAttemptsPerEnvelope) {
      this.outOfAttempts(entry);
    }
    // Otherwise it stays where it is, no longer in flight: the next batch takes it again, ahead of newer ones.
  }

  /**
   * An envelope without an outbox record is dropped (counted). An outboxed one is never given up while the process
   * runs: left for the next start, it would reach no client for as long as this process lives (a Redis that
   * refused writes for a few seconds would cost minutes), and its target's newer envelopes would overtake it. It
   * stalls instead: it keeps its place, its target's newer envelopes wait behind it, and it is tried again every
   * `stalledRetryMs` (at once when a breaker closes), so a transport that fails every write costs one try per
   * interval, not a busy loop. Its attempts keep counting.
   */
  private outOfAttempts(entry: BufferEntry): void {
    if (!entry.outboxed) return this.buffer.drop(entry, 'max_attempts');
    entry.retryAt = this.now() + this.settings.stalledRetryMs;
    if (this.stallLogged) return;
    this.stallLogged = true;
    const { envelope } = entry.outbound;
    this.logger.warn(
      `Envelope ${envelope.id} (${envelope.type}) failed ${entry.attempts} times; outboxed envelopes keep their ` +
        `place and are tried again every ${this.settings.stalledRetryMs} ms until a transport takes them ` +
        `(their rooms' newer envelopes wait behind them)`,
    );
  }

  private onDrop(entry: BufferEntry, reason: DropReason): void {
    this.metrics.dropped(reason, 1);
    const { envelope } = entry.outbound;
    if (reason === 'shutdown' || envelope.volatile) {
      this.logger.debug(`Dropped envelope ${envelope.id} (${envelope.type}): ${reason}`);
    } else {
      this.logger.warn(`Dropped envelope ${envelope.id} (${envelope.type}): ${reason}`);
    }
  }
}

function addTo<D>(batches: Map<D, BufferEntry[]>, destination: D, entry: BufferEntry): void {
  const batch = batches.get(destination);
  if (batch) batch.push(entry);
  else batches.set(destination, [entry]);
}
