import type { Envelope, OutboundEnvelope } from '@realtime-streams/contracts';

/**
 * Durable envelopes a transport acknowledged lately, oldest first, kept for `windowMs` (and at most `maxEntries`).
 * An acknowledgement from Redis means "appended to the stream", not "read by the gateways": if Redis then dies
 * without persistence, what the gateways had not read yet is gone. These are the envelopes to send again.
 *
 * Only the serialized envelope and its routing key are kept, in a ring of fixed size: holding the envelope objects
 * (and the event's args with them) for seconds made them survive young-generation collections, and the extra
 * copying showed in the publish latency tail. Replays are rare, so they are parsed back when taken.
 */
export class RecentAcks {
  private readonly jsons: Array<string | undefined>;
  private readonly targetKeys: Array<string | undefined>;
  private readonly times: Float64Array;
  private head = 0;
  private size = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {
    this.jsons = new Array<string | undefined>(maxEntries);
    this.targetKeys = new Array<string | undefined>(maxEntries);
    this.times = new Float64Array(maxEntries);
  }

  record(batch: readonly OutboundEnvelope[], at: number): void {
    const capacity = this.maxEntries;
    for (const outbound of batch) {
      if (outbound.envelope.volatile) continue;
      if (this.size === capacity) this.dropOldest();
      const slot = (this.head + this.size) % capacity;
      this.jsons[slot] = outbound.json;
      this.targetKeys[slot] = outbound.targetKey;
      this.times[slot] = at;
      this.size++;
    }
    const oldest = at - this.windowMs;
    while (this.size > 0 && this.times[this.head] < oldest) this.dropOldest();
  }

  /** Takes (and forgets) everything acknowledged at or after `since`, oldest first. */
  takeSince(since: number): OutboundEnvelope[] {
    return this.takeMatching(since, () => true);
  }

  /**
   * Takes (and forgets) what was acknowledged at or after `since` for the targets `owns` selects (the shards of a
   * cluster node that failed), oldest first; the others stay, in order.
   */
  takeMatching(since: number, owns: (targetKey: string) => boolean): OutboundEnvelope[] {
    const kept: Array<[json: string, targetKey: string, at: number]> = [];
    const taken: OutboundEnvelope[] = [];
    while (this.size > 0) {
      const slot = this.head;
      const json = this.jsons[slot]!;
      const targetKey = this.targetKeys[slot]!;
      const at = this.times[slot];
      this.dropOldest();
      if (!owns(targetKey)) kept.push([json, targetKey, at]);
      else if (at >= since) {
        const envelope = JSON.parse(json) as Envelope;
        taken.push({ envelope, json, targetKey, argsJson: JSON.stringify(envelope.args) });
      }
    }
    for (const [json, targetKey, at] of kept) {
      const slot = (this.head + this.size) % this.maxEntries;
      this.jsons[slot] = json;
      this.targetKeys[slot] = targetKey;
      this.times[slot] = at;
      this.size++;
    }
    return taken;
  }

  private dropOldest(): void {
    this.jsons[this.head] = undefined;
    this.targetKeys[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEntries;
    this.size--;
  }
}
