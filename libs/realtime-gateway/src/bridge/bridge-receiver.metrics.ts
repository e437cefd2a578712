import type { InboundEnvelopeMetrics } from '../delivery/delivery.metrics';
import type { BridgeBodyRefusal } from './bridge-body';

/** What the bridge receiver reports; the Prometheus implementation lives in metrics/. */
export interface BridgeReceiverMetrics extends InboundEnvelopeMetrics {
  /** A request refused (400) for its body. */
  bodyRefused(reason: BridgeBodyRefusal): void;
  /** A lane's report of envelopes it gave up, and the connections closed for it. */
  gaveUpReported(connections: number): void;
}
