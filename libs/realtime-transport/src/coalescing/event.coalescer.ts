import type { OutboundEnvelope } from '@realtime-streams/contracts';
import type { CoalescerMetrics } from './coalescer.metrics';
import { ExpiryQueue } from './expiry-queue';

/** One coalescing key (e.g. room + user) with an open window. */
interface Slot {
  readonly key: string;
  /** Expiry of the window in force; an expiry queue entry with another time is stale. */
  expiresAt: number;
  /** What was last sent for this key (method + args), to tell whether the pending state is a change. */
  lastSentState: string;
  pending?: OutboundEnvelope;
  pendingSince: number;
}

export interface EventCoalescerSettings {
  /** Window of events that do not name their own. */
  defaultWindowMs: number;
  /** Keys with an open window, at most; past it, events go out uncoalesced rather than use more memory. */
  maxKeys: number;
}

/**
 * Coalesces bursts of state events (typing indicators) per key, in windows:
 *
 * - an event for a key without an open window goes out at once and opens a window;
 * - events within the window replace each other; when it closes, the last one goes out only if its state differs
 *   from the last one sent (and then opens the next window), so a final "stopped typing" always goes out, at most
 *   one window late;
 * - a key whose window closes with nothing to send is released, so memory follows the active keys only;
 * - `supersede(key)` discards a key's pending state (a chat message makes its author's pending "typing" stale).
 *
 * Keys never wait on each other, and one key's events leave in the order they arrived.
 */
export class EventCoalescer {
  private readonly slots = new Map<string, Slot>();
  private readonly queues = new Map<number, ExpiryQueue<Slot>>();

  constructor(
    private readonly emit: (outbound: OutboundEnvelope) => void,
    private readonly settings: EventCoalescerSettings,
    private readonly metrics: CoalescerMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keys with an open window. */
  get size(): number {
    return this.slots.size;
  }

  accept(outbound: OutboundEnvelope): void {
    const type = outbound.envelope.type;
    const key = outbound.coalesceKey!;
    this.metrics.received(type);
    const slot = this.slots.get(key);
    if (slot) {
      if (slot.pending) this.metrics.discarded(slot.pending.envelope.type, 'replaced');
      slot.pending = outbound;
      slot.pendingSince = this.now();
      return;
    }
    if (this.slots.size < this.settings.maxKeys) {
      const opened: Slot = { key, expiresAt: 0, lastSentState: stateOf(outbound), pendingSince: 0 };
      opened.expiresAt = this.queueFor(outbound).push(opened);
      this.slots.set(key, opened);
    }
    this.send(outbound, 0);
  }

  /** Discards the pending state of `key` and closes its window: the next event for it goes out at once. */
  supersede(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    if (slot.pending) this.metrics.discarded(slot.pending.envelope.type, 'superseded');
    this.slots.delete(key);
  }

  /** Shutdown: sends every pending state that is a change, forgets the rest; returns how many went out. */
  flush(): number {
    let sent = 0;
    const now = this.now();
    for (const slot of this.slots.values()) {
      const pending = slot.pending;
      if (!pending) continue;
      if (stateOf(pending) !== slot.lastSentState) {
        this.send(pending, now - slot.pendingSince);
        sent++;
      } else {
        this.metrics.discarded(pending.envelope.type, 'unchanged');
      }
    }
    this.slots.clear();
    for (const queue of this.queues.values()) queue.clear();
    return sent;
  }

  private queueFor(outbound: OutboundEnvelope): ExpiryQueue<Slot> {
    const windowMs = outbound.coalesceWindowMs ?? this.settings.defaultWindowMs;
    let queue = this.queues.get(windowMs);
    if (!queue) {
      queue = new ExpiryQueue<Slot>(windowMs, (slot, at) => this.windowClosed(slot, at, queue!), this.now);
      this.queues.set(windowMs, queue);
    }
    return queue;
  }

  private windowClosed(slot: Slot, at: number, queue: ExpiryQueue<Slot>): void {
    // A superseded or reopened slot left a stale entry behind.
    if (slot.expiresAt !== at || this.slots.get(slot.key) !== slot) return;
    const pending = slot.pending;
    if (pending) {
      slot.pending = undefined;
      const state = stateOf(pending);
      if (state !== slot.lastSentState) {
        this.send(pending, this.now() - slot.pendingSince);
        slot.lastSentState = state;
        slot.expiresAt = queue.push(slot);
        return;
      }
      this.metrics.discarded(pending.envelope.type, 'unchanged');
    }
    this.slots.delete(slot.key);
  }

  private send(outbound: OutboundEnvelope, delayMs: number): void {
    this.metrics.emitted(outbound.envelope.type, delayMs);
    this.emit(outbound);
  }
}

function stateOf(outbound: OutboundEnvelope): string {
  return outbound.envelope.method + '\u0000' + outbound.argsJson;
}
