import type { OutboundEnvelope } from '@realtime-streams/contracts';
import type { RoutePlan } from '../routing/transport.router';

export type DropReason = 'buffer_full_volatile' | 'buffer_full_oldest' | 'max_attempts' | 'shutdown';

/** How an entry may be treated when the buffer is full. */
export enum EntryKind {
  /** May be dropped first (typing indicators). */
  Volatile = 0,
  /** Durable, but nothing else holds a copy: evicted (oldest first) when there is no volatile one to evict. */
  Plain = 1,
  /** Durable with an outbox record: never evicted, it waits in the store instead. */
  Outboxed = 2,
}

/** One envelope waiting for (or being written to) a transport. */
export class BufferEntry {
  prev?: BufferEntry;
  next?: BufferEntry;
  /** Neighbours among the entries of the same kind. */
  prevOfKind?: BufferEntry;
  nextOfKind?: BufferEntry;
  /** Part of a batch a transport has not answered yet. */
  inFlight = false;
  /** Failed publishes so far, over every transport. */
  attempts = 0;
  /** Transports that failed this envelope since it last had a fresh choice (bit per transport). */
  failedMask = 0;
  /** Writes of the current attempt not answered yet (two under dual write). */
  writesPending = 0;
  /** At least one write of the current attempt succeeded. */
  delivered = false;
  /**
   * Outboxed and out of attempts: not tried again before this time (epoch ms), and its target's newer envelopes wait
   * behind it. 0 otherwise.
   */
  retryAt = 0;
  /** Route of the envelope and the router version it was computed for (recomputed after a flag change). */
  plan?: RoutePlan;
  planVersion = -1;

  constructor(
    readonly outbound: OutboundEnvelope,
    readonly kind: EntryKind,
  ) {}

  get outboxed(): boolean {
    return this.kind === EntryKind.Outboxed;
  }
}

interface KindList {
  head?: BufferEntry;
  tail?: BufferEntry;
  count: number;
}

/**
 * The ordered, bounded queue of envelopes on their way out: every envelope passes through it, and it is where they
 * wait while no transport can take them. A linked list, because envelopes leave from anywhere (a room whose
 * transport is up overtakes a room whose transport is down) while the rest keep their order.
 *
 * When full, a new envelope first evicts the oldest volatile one (typing indicators are worthless late), then the
 * oldest durable one without an outbox record. Outboxed envelopes are never evicted: one that finds no room is
 * refused (`push` returns false) and waits in the outbox store instead. Envelopes in flight are never evicted:
 * their fate is with the transport. Each kind has a list of its own, so finding a victim never walks the others.
 */
export class PendingBuffer {
  private head?: BufferEntry;
  private tail?: BufferEntry;
  private readonly kinds: [KindList, KindList, KindList] = [{ count: 0 }, { count: 0 }, { count: 0 }];
  private count = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop: (entry: BufferEntry, reason: DropReason) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Outboxed entries held (waiting or in flight). */
  get outboxedCount(): number {
    return this.kinds[EntryKind.Outboxed].count;
  }

  get first(): BufferEntry | undefined {
    return this.head;
  }

  /** The oldest outboxed entry (then `nextOfKind`). */
  get firstOutboxed(): BufferEntry | undefined {
    return this.kinds[EntryKind.Outboxed].head;
  }

  /**
   * Appends an envelope; false when it was not taken (full: an outboxed one is then left to the store, anything
   * else was reported as dropped). `overCapacity` takes it whatever the size (records the relay read back, at most
   * one relay batch over).
   */
  push(outbound: OutboundEnvelope, outboxed = false, overCapacity = false): boolean {
    const kind = outboxed ? EntryKind.Outboxed : outbound.envelope.volatile ? EntryKind.Volatile : EntryKind.Plain;
    const entry = new BufferEntry(outbound, kind);
    if (this.count >= this.capacity && !overCapacity && !this.makeRoomFor(entry)) return false;
    this.linkLast(entry, kind);
    return true;
  }

  /** Links an entry at the tail of the buffer and of its kind's list. */
  private linkLast(entry: BufferEntry, kind: EntryKind): void {
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    const list = this.kinds[kind];
    entry.prevOfKind = list.tail;
    if (list.tail) list.tail.nextOfKind = entry;
    else list.head = entry;
    list.tail = entry;
    list.count++;
    this.count++;
  }

  /** Links an entry at the head of the buffer and of its kind's list. */
  private linkFirst(entry: BufferEntry, kind: EntryKind): void {
    entry.next = this.head;
    if (this.head) this.head.prev = entry;
    else this.tail = entry;
    this.head = entry;
    const list = this.kinds[kind];
    entry.nextOfKind = list.head;
    if (list.head) list.head.prevOfKind = entry;
    else list.tail = entry;
    list.head = entry;
    list.count++;
    this.count++;
  }

  /**
   * Puts envelopes back at the head, keeping their order: replays of what a failed transport may have lost, older
   * than anything still waiting. `failedMask` marks the transport they must not go back to first.
   */
  pushFront(outbounds: readonly OutboundEnvelope[], failedMask: number): void {
    for (let i = outbounds.length - 1; i >= 0; i--) {
      const kind = outbounds[i].envelope.volatile ? EntryKind.Volatile : EntryKind.Plain;
      const entry = new BufferEntry(outbounds[i], kind);
      entry.failedMask = failedMask;
      if (this.count >= this.capacity && !this.makeRoomFor(entry)) continue;
      this.linkFirst(entry, kind);
    }
  }

  remove(entry: BufferEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    const list = this.kinds[entry.kind];
    if (entry.prevOfKind) entry.prevOfKind.nextOfKind = entry.nextOfKind;
    else list.head = entry.nextOfKind;
    if (entry.nextOfKind) entry.nextOfKind.prevOfKind = entry.prevOfKind;
    else list.tail = entry.prevOfKind;
    entry.prev = entry.next = entry.prevOfKind = entry.nextOfKind = undefined;
    list.count--;
    this.count--;
  }

  /** Drops the entry, reporting why. */
  drop(entry: BufferEntry, reason: DropReason): void {
    this.remove(entry);
    this.onDrop(entry, reason);
  }

  /** Removes everything that is not in flight and has no outbox record, reporting each as dropped. */
  dropWaiting(reason: DropReason): number {
    let dropped = 0;
    for (let entry = this.head; entry;) {
      const next = entry.next;
      if (!entry.inFlight && !entry.outboxed) {
        this.drop(entry, reason);
        dropped++;
      }
      entry = next;
    }
    return dropped;
  }

  /** Removes the outboxed entries that are not in flight (their records stay in the store) and returns their ids. */
  releaseWaitingOutboxed(): string[] {
    const ids: string[] = [];
    for (let entry = this.kinds[EntryKind.Outboxed].head; entry;) {
      const next = entry.nextOfKind;
      if (!entry.inFlight) {
        ids.push(entry.outbound.envelope.id);
        this.remove(entry);
      }
      entry = next;
    }
    return ids;
  }

  /** Frees one place for `incoming`; false when `incoming` itself is the one to drop (or to leave to the store). */
  private makeRoomFor(incoming: BufferEntry): boolean {
    if (this.evictOldest(EntryKind.Volatile, 'buffer_full_volatile')) return true;
    if (incoming.kind === EntryKind.Volatile) {
      this.onDrop(incoming, 'buffer_full_volatile');
      return false;
    }
    // An outboxed envelope is safe in the store; taking its place would lose an envelope that is not.
    if (incoming.kind === EntryKind.Outboxed) return false;
    if (this.evictOldest(EntryKind.Plain, 'buffer_full_oldest')) return true;
    this.onDrop(incoming, 'buffer_full_oldest');
    return false;
  }

  private evictOldest(kind: EntryKind, reason: DropReason): boolean {
    for (let entry = this.kinds[kind].head; entry; entry = entry.nextOfKind) {
      if (!entry.inFlight) {
        this.drop(entry, reason);
        return true;
      }
    }
    return false;
  }
}
