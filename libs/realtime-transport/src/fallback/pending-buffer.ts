import type { OutboundEnvelope } from '../envelope/envelope.interface';
import type { RoutePlan } from '../routing/transport.router';

export type DropReason = 'buffer_full_volatile' | 'buffer_full_oldest' | 'max_attempts' | 'shutdown';

/** One envelope waiting for (or being written to) a transport. */
export class BufferEntry {
  prev?: BufferEntry;
  next?: BufferEntry;
  prevVolatile?: BufferEntry;
  nextVolatile?: BufferEntry;
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
  /** Route of the envelope and the router version it was computed for (recomputed after a flag change). */
  plan?: RoutePlan;
  planVersion = -1;

  constructor(readonly outbound: OutboundEnvelope) {}
}

/**
 * The ordered, bounded queue of envelopes on their way out: every envelope passes through it, and it is where they
 * wait while no transport can take them. A linked list, because envelopes leave from anywhere (a room whose
 * transport is up overtakes a room whose transport is down) while the rest keep their order.
 *
 * When full, a new envelope first evicts the oldest volatile one (typing indicators are worthless late), then the
 * oldest of all. Envelopes in flight are never evicted: their fate is with the transport.
 */
export class PendingBuffer {
  private head?: BufferEntry;
  private tail?: BufferEntry;
  private volatileHead?: BufferEntry;
  private volatileTail?: BufferEntry;
  private count = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop: (entry: BufferEntry, reason: DropReason) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  get first(): BufferEntry | undefined {
    return this.head;
  }

  push(outbound: OutboundEnvelope): void {
    const entry = new BufferEntry(outbound);
    if (this.count >= this.capacity && !this.makeRoomFor(entry)) return;
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (outbound.envelope.volatile) {
      entry.prevVolatile = this.volatileTail;
      if (this.volatileTail) this.volatileTail.nextVolatile = entry;
      else this.volatileHead = entry;
      this.volatileTail = entry;
    }
    this.count++;
  }

  /**
   * Puts envelopes back at the head, keeping their order: replays of what a failed transport may have lost, older
   * than anything still waiting. `failedMask` marks the transport they must not go back to first.
   */
  pushFront(outbounds: readonly OutboundEnvelope[], failedMask: number): void {
    for (let i = outbounds.length - 1; i >= 0; i--) {
      const entry = new BufferEntry(outbounds[i]);
      entry.failedMask = failedMask;
      if (this.count >= this.capacity && !this.makeRoomFor(entry)) continue;
      entry.next = this.head;
      if (this.head) this.head.prev = entry;
      else this.tail = entry;
      this.head = entry;
      if (outbounds[i].envelope.volatile) {
        entry.nextVolatile = this.volatileHead;
        if (this.volatileHead) this.volatileHead.prevVolatile = entry;
        else this.volatileTail = entry;
        this.volatileHead = entry;
      }
      this.count++;
    }
  }

  remove(entry: BufferEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    if (entry.outbound.envelope.volatile) {
      if (entry.prevVolatile) entry.prevVolatile.nextVolatile = entry.nextVolatile;
      else this.volatileHead = entry.nextVolatile;
      if (entry.nextVolatile) entry.nextVolatile.prevVolatile = entry.prevVolatile;
      else this.volatileTail = entry.prevVolatile;
    }
    entry.prev = entry.next = entry.prevVolatile = entry.nextVolatile = undefined;
    this.count--;
  }

  /** Drops the entry, reporting why. */
  drop(entry: BufferEntry, reason: DropReason): void {
    this.remove(entry);
    this.onDrop(entry, reason);
  }

  /** Removes everything that is not in flight, reporting each as dropped. */
  dropWaiting(reason: DropReason): number {
    let dropped = 0;
    for (let entry = this.head; entry; ) {
      const next = entry.next;
      if (!entry.inFlight) {
        this.drop(entry, reason);
        dropped++;
      }
      entry = next;
    }
    return dropped;
  }

  /** Frees one place for `incoming`; false when `incoming` itself is the one to drop. */
  private makeRoomFor(incoming: BufferEntry): boolean {
    for (let entry = this.volatileHead; entry; entry = entry.nextVolatile) {
      if (!entry.inFlight) {
        this.drop(entry, 'buffer_full_volatile');
        return true;
      }
    }
    if (incoming.outbound.envelope.volatile) {
      this.onDrop(incoming, 'buffer_full_volatile');
      return false;
    }
    for (let entry = this.head; entry; entry = entry.next) {
      if (!entry.inFlight) {
        this.drop(entry, 'buffer_full_oldest');
        return true;
      }
    }
    this.onDrop(incoming, 'buffer_full_oldest');
    return false;
  }
}
