import type { OutboundEnvelope } from '@realtime-streams/contracts';

export type TransportName = 'redis-streams' | 'http-bridge' | 'in-process';

/** `owns(targetKey)`: whether the lost part held that target's envelopes; `part` names it for the log. */
export type PartLostListener = (owns: (targetKey: string) => boolean, part: string) => void;

/**
 * One way of getting envelopes to the gateways. Implementations keep their own connections; the fallback chain
 * decides which one gets a batch.
 */
export interface RealtimeTransport {
  readonly name: TransportName;
  /**
   * An acknowledged envelope can still be lost when the far end crashes (Redis without persistence acknowledges
   * an append, not a read). The chain then replays the last acknowledged ones on the next transport.
   */
  readonly acknowledgementsMayBeLost?: boolean;
  /** Opens connections. Must not fail start-up when the far end is down: the breaker's probe notices that. */
  start(): Promise<void>;
  /**
   * Writes a batch, in order. Resolves when every envelope is acknowledged; rejects with a
   * `TransportPublishError` otherwise (its `failedIndexes` say which ones, when only some failed).
   */
  publish(batch: readonly OutboundEnvelope[]): Promise<void>;
  /**
   * For a transport made of parts that fail on their own (the shards of a Redis Cluster node): called when a part
   * that was taking envelopes fails, with the targets it holds. The chain replays what that part acknowledged lately
   * (as it does for the whole transport when its breaker opens); the other parts go on.
   */
  onPartLost?(listener: PartLostListener): void;
  /**
   * For a transport made of parts: whether the part that would take this envelope takes envelopes now. The chain
   * does not send it one it would refuse without trying (a shard whose master is gone): that is not an attempt, and
   * with no other transport the envelope waits, in its place, instead of using its attempts up in a loop.
   */
  accepts?(envelope: OutboundEnvelope): boolean;
  /** Called when a part that was refusing envelopes (see `accepts`) takes them again. */
  onPartAvailable?(listener: () => void): void;
  /**
   * For a transport whose `publish` resolves before every part that needs the batch has it (the HTTP bridge resolves
   * at the first gateway instance): from this call on, `settlementOf` answers for what `publish` acknowledges.
   */
  trackSettlements?(): void;
  /**
   * For an envelope `publish` just acknowledged: undefined when no part still holds it, else a promise of `true`
   * once every part delivered it or gave it up and told its far end, `false` when one never will (shutdown). The
   * outbox removes the envelope's record only once this says `true`.
   */
  settlementOf?(id: string): Promise<boolean> | undefined;
  /** Resolves when the transport can take envelopes now; rejects with the reason otherwise. */
  health(): Promise<void>;
  close(): Promise<void>;
}
