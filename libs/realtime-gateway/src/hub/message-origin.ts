import type { PositionVector } from './session/stream-positions';

/** The stream entry an envelope was read from. */
export interface StreamEntryRef {
  key: string;
  id: string;
}

/**
 * Where a delivered message came from, as a connection needs it: a plain connection only looks at `volatile`; a
 * stateful session numbers and records the message by the rest (see HubConnection.deliver). Valid during the
 * hand-out only (delivery reuses it for the next envelope): whoever keeps it copies it.
 */
export interface MessageOrigin {
  readonly envelopeId: string;
  /** Skipped for a backed-up client; a stateful session still numbers it (a crash replay must). */
  readonly volatile: boolean;
  /** The stream entry it was read from; undefined when the bridge or the in-process transport brought it. */
  readonly entry: StreamEntryRef | undefined;
  /**
   * It waited for an earlier envelope of its target and goes out after entries read later than its own (see
   * TargetOrder): a crash replay, which follows the stream, could not put it back in its place.
   */
  readonly released: boolean;
  /** Where the consumer stood when it was delivered: a stateful session's place for it in a crash replay. */
  readonly at: PositionVector | undefined;
}
