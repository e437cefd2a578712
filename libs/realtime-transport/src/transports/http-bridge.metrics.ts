/**
 * Why a lane gave up envelopes for its instance: `expired` (waited past `laneRetryMs`), `overflow` (past
 * `laneQueueEnvelopes`), `rejected` (the instance answered 4xx for the batch), `volatile` (a typing indicator the
 * instance missed while down: never replayed), `shutdown` (not delivered before close). Only envelopes the instance
 * never acknowledged are counted.
 */
export type LaneDropReason = 'expired' | 'overflow' | 'rejected' | 'volatile' | 'shutdown';

/**
 * What became of the report naming the targets of envelopes a lane gave up (every reason but `volatile`): `told`
 * (the instance closed those clients so they re-fetch), `refused` (the instance refused the report: its clients
 * were not told), `shutdown` (the api stopped before the instance was reachable again).
 */
export type GaveUpReportOutcome = 'told' | 'refused' | 'shutdown';

/** What one bridge lane (one gateway instance) reports. */
export interface HttpBridgeLaneMetrics {
  /** Envelopes queued for the instance, in flight included. */
  queueDepth(depth: number): void;
  /** Envelopes given up for the instance: it never acknowledged them and they will not be sent to it again. */
  dropped(reason: LaneDropReason, count: number): void;
  /** Whether the instance answered its last request or probe. */
  up(up: boolean): void;
  /** `count` envelopes given up for the instance, by what became of the report naming their targets. */
  gaveUpReported(outcome: GaveUpReportOutcome, count: number): void;
}

/** The Prometheus implementation lives in metrics/; the transport works without one. */
export interface HttpBridgeMetrics {
  /** Metrics of one instance, labelled `instance` (called once per lane). */
  lane(instance: string): HttpBridgeLaneMetrics;
}

const NO_LANE_METRICS: HttpBridgeLaneMetrics = {
  queueDepth: () => undefined,
  dropped: () => undefined,
  up: () => undefined,
  gaveUpReported: () => undefined,
};

export const NO_HTTP_BRIDGE_METRICS: HttpBridgeMetrics = { lane: () => NO_LANE_METRICS };
