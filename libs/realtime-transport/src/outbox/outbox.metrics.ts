/**
 * Why outboxed envelopes were left in the store for the next start instead of being published now: only a shutdown
 * whose deadline passed (an envelope out of attempts stalls in place while the process runs, see EnvelopeLedger).
 */
export type OutboxDeferReason = 'shutdown';

/** What the outbox reports; the Prometheus implementation lives in metrics/, tests pass fakes. */
export interface OutboxMetrics {
  /** Outbox records this process knows are not acknowledged yet (held in memory, only in the store, left). */
  outboxPending(count: number): void;
  /** Records the relay read back from the store and republished (at start, after an overflow). */
  outboxRelayed(count: number): void;
  /** Records removed from the store after a transport acknowledged them. */
  outboxRemoved(count: number): void;
  /** Outboxed envelopes that found the buffer full (or the relay catching up) and went through the store. */
  outboxSpilled(count: number): void;
  /** Outboxed envelopes left in the store for the next start. */
  outboxDeferred(reason: OutboxDeferReason, count: number): void;
  /** Failed store calls (`pending`, `remove`); they are retried. */
  outboxStoreError(operation: 'pending' | 'remove'): void;
}

export const NO_OUTBOX_METRICS: OutboxMetrics = {
  outboxPending: () => undefined,
  outboxRelayed: () => undefined,
  outboxRemoved: () => undefined,
  outboxSpilled: () => undefined,
  outboxDeferred: () => undefined,
  outboxStoreError: () => undefined,
};
