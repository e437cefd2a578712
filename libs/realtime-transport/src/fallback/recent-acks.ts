import type { OutboundEnvelope } from '../envelope/envelope.interface';

/**
 * Durable envelopes a transport acknowledged lately, oldest first, kept for `windowMs` (and at most `maxEntries`).
 * An acknowledgement from Redis means "appended to the stream", not "read by the gateways": if Redis then dies
 * without persistence, what the gateways had not read yet is gone. These are the envelopes to send again.
 */
export class RecentAcks {
  private items: Array<{ outbound: OutboundEnvelope; at: number }> = [];
  private head = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  record(batch: readonly OutboundEnvelope[], at: number): void {
    for (const outbound of batch) if (!outbound.envelope.volatile) this.items.push({ outbound, at });
    const oldest = at - this.windowMs;
    while (this.head < this.items.length && (this.items[this.head].at < oldest || this.items.length - this.head > this.maxEntries)) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Takes (and forgets) everything acknowledged at or after `since`. */
  takeSince(since: number): OutboundEnvelope[] {
    const taken: OutboundEnvelope[] = [];
    for (let i = this.head; i < this.items.length; i++) if (this.items[i].at >= since) taken.push(this.items[i].outbound);
    this.items = [];
    this.head = 0;
    return taken;
  }
}
