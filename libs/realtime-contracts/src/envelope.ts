/** Who receives an event: the members of a group, every connection of a user, or everyone. */
export type RealtimeTarget =
  | { readonly kind: 'group'; readonly name: string }
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'all' };

/** The stream envelope of `events.json` (this package ships it). */
export interface Envelope {
  readonly v: 1;
  readonly id: string;
  readonly type: string;
  readonly target: RealtimeTarget;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly ts: number;
  readonly volatile: boolean;
  /**
   * The event's place in its target's commit order (consecutive per target, from 1), when the application numbers
   * them: gateways deliver a target's numbered events in this order, whatever brought them (see `sequence` of
   * `@RealtimeEvent`).
   */
  readonly seq?: number;
}

/**
 * An envelope on its way out: validated, serialized once (`json`), with the routing key its transport, shard and
 * percentage decisions hash. Transports write `json` as is; nothing downstream serializes the envelope again.
 */
export interface OutboundEnvelope {
  readonly envelope: Envelope;
  readonly json: string;
  /** `group:<name>`, `user:<id>` or `all`. */
  readonly targetKey: string;
  /** The args as JSON (a slice of `json`): what the coalescer compares to tell whether a state changed. */
  readonly argsJson: string;
  /** Key of the coalescing slot when the event is coalesced (e.g. room + user), else undefined. */
  readonly coalesceKey?: string;
  /** Coalescing window of this event when it has its own (else the module default). */
  readonly coalesceWindowMs?: number;
  /** The event's own refresh interval, when it names one. */
  readonly coalesceRefreshMs?: number;
  /** Coalescing slot whose pending state this event discards (a message discards its author's "typing"). */
  readonly supersedesKey?: string;
}
