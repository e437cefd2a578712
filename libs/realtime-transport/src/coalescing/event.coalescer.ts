import type { OutboundEnvelope } from '@realtime-streams/contracts';
import type { CoalescerMetrics } from './coalescer.metrics';
import { ExpiryQueue } from './expiry-queue';

/** One coalescing key (e.g. room + user): in a window, or remembered after one until its refresh interval ends. */
interface Slot {
  readonly key: string;
  /** `window`: events replace each other until it closes; `idle`: nothing pending, the last state remembered. */
  phase: 'window' | 'idle';
  /** Expiry of the phase in force; an expiry queue entry with another time is stale. */
  expiresAt: number;
  /** What was last sent for this key (method + args), to tell whether the pending state is a change. */
  lastSentState: string;
  /** When it was sent: an unchanged state goes out again once the refresh interval has passed. */
  lastSentAt: number;
  pending?: OutboundEnvelope;
  pendingSince: number;
  /** The event's window and refresh interval, as its last send opened them. */
  windowMs?: number;
  refreshMs?: number;
}

export interface EventCoalescerSettings {
  /** Window of events that do not name their own. */
  defaultWindowMs: number;
  /**
   * Refresh interval of events that do not name their own: within it of the last send, an unchanged state is not
   * sent again; after it, it is (so a receiver's "typing" indicator never times out while the user still types).
   * 0: none (a key is forgotten as soon as a window closes with nothing new).
   */
  defaultRefreshMs: number;
  /** Keys with an open window, at most; past it, events go out uncoalesced rather than use more memory. */
  maxKeys: number;
}

/**
 * Coalesces bursts of state events (typing indicators) per key, in windows, with a refresh interval:
 *
 * - an event for a key without an open window goes out at once and opens a window, unless it repeats the state
 *   last sent less than a refresh interval ago (an average typist's next key, 200 ms later: nothing new to say);
 * - events within the window replace each other; when it closes, the last one goes out if its state differs from
 *   the last one sent, or the same state was last sent a refresh interval ago or more (then it opens the next
 *   window), so a final "stopped typing" always goes out, at most one window late;
 * - a key whose window closes with nothing to send is remembered until a refresh interval after its last send, then
 *   released, so memory follows the recently active keys only;
 * - `supersede(key)` discards a key's pending state (a chat message makes its author's pending "typing" stale).
 *
 * Receivers are assumed to hide "typing" after a few seconds without one (the stock clients' habit): a state held
 * longer than the refresh interval is sent again with the user's next event, so with a refresh of 1 s the indicator
 * never lapses while keys keep coming. Keys never wait on each other, and one key's events leave in order.
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

  /** Keys in a window or remembered after one. */
  get size(): number {
    return this.slots.size;
  }

  accept(outbound: OutboundEnvelope): void {
    const type = outbound.envelope.type;
    const key = outbound.coalesceKey!;
    this.metrics.received(type);
    const slot = this.slots.get(key);
    const now = this.now();
    if (slot?.phase === 'window') {
      if (slot.pending) this.metrics.discarded(slot.pending.envelope.type, 'replaced');
      slot.pending = outbound;
      slot.pendingSince = now;
      return;
    }
    const state = stateOf(outbound);
    if (slot) {
      // Remembered after a window: a repeat within the refresh interval says nothing new.
      if (state === slot.lastSentState && now - slot.lastSentAt < this.refreshOf(outbound)) {
        this.metrics.discarded(type, 'unchanged');
        return;
      }
      this.openWindow(slot, outbound, state, now);
      this.send(outbound, 0);
      return;
    }
    if (this.slots.size < this.settings.maxKeys) {
      const opened: Slot = {
        key,
        phase: 'window',
        expiresAt: 0,
        lastSentState: state,
        lastSentAt: now,
        pendingSince: 0,
      };
      this.openWindow(opened, outbound, state, now);
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

  /** `state` of `outbound` was just sent: the key's next window starts now. */
  private openWindow(slot: Slot, outbound: OutboundEnvelope, state: string, now: number): void {
    slot.phase = 'window';
    slot.lastSentState = state;
    slot.lastSentAt = now;
    slot.expiresAt = this.queueFor(outbound.coalesceWindowMs ?? this.settings.defaultWindowMs).push(slot);
    slot.refreshMs = this.refreshOf(outbound);
    slot.windowMs = outbound.coalesceWindowMs ?? this.settings.defaultWindowMs;
  }

  /** The state last sent is due again (0: never, only changes go out). */
  private refreshDue(slot: Slot, now: number): boolean {
    return slot.refreshMs! > 0 && now - slot.lastSentAt >= slot.refreshMs!;
  }

  private refreshOf(outbound: OutboundEnvelope): number {
    return outbound.coalesceRefreshMs ?? this.settings.defaultRefreshMs;
  }

  /** One queue per duration (windows, and what is left of refresh intervals after a window). */
  private queueFor(durationMs: number): ExpiryQueue<Slot> {
    let queue = this.queues.get(durationMs);
    if (!queue) {
      queue = new ExpiryQueue<Slot>(durationMs, (slot, at) => this.expired(slot, at), this.now);
      this.queues.set(durationMs, queue);
    }
    return queue;
  }

  private expired(slot: Slot, at: number): void {
    // A superseded or reopened slot left a stale entry behind.
    if (slot.expiresAt !== at || this.slots.get(slot.key) !== slot) return;
    if (slot.phase === 'idle') {
      this.slots.delete(slot.key);
      return;
    }
    const now = this.now();
    const pending = slot.pending;
    if (pending) {
      slot.pending = undefined;
      const state = stateOf(pending);
      if (state !== slot.lastSentState || this.refreshDue(slot, now)) {
        this.send(pending, now - slot.pendingSince);
        this.openWindow(slot, pending, state, now);
        return;
      }
      this.metrics.discarded(pending.envelope.type, 'unchanged');
    }
    // Remembered until a refresh interval after the last send; released at once without one.
    const left = slot.lastSentAt + slot.refreshMs! - now;
    if (left <= 0) {
      this.slots.delete(slot.key);
      return;
    }
    slot.phase = 'idle';
    slot.expiresAt = this.queueFor(Math.max(1, slot.refreshMs! - slot.windowMs!)).push(slot);
  }

  private send(outbound: OutboundEnvelope, delayMs: number): void {
    this.metrics.emitted(outbound.envelope.type, delayMs);
    this.emit(outbound);
  }
}

function stateOf(outbound: OutboundEnvelope): string {
  return outbound.envelope.method + '\u0000' + outbound.argsJson;
}
