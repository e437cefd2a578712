export type CoalescerDiscardReason = 'replaced' | 'unchanged' | 'superseded' | 'shutdown';

/** What the coalescer reports; the Prometheus implementation lives in metrics/, tests pass fakes. */
export interface CoalescerMetrics {
  /** A coalesced event entered the coalescer. */
  received(type: string): void;
  /** An event left the coalescer after `delayMs` of added delay (0 when it went out at once). */
  emitted(type: string, delayMs: number): void;
  /** An event will never go out, and why. */
  discarded(type: string, reason: CoalescerDiscardReason): void;
}

export const NO_COALESCER_METRICS: CoalescerMetrics = {
  received: () => undefined,
  emitted: () => undefined,
  discarded: () => undefined,
};
