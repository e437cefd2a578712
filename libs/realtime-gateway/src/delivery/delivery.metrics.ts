import type { DeliverySource, EnvelopeRejection } from '../metrics/realtime-gateway.metrics';
import type { HubProtocolName } from '../hub/protocols/hub-protocol-codec';
import type { OrderBreak } from './target-order';

/** What an inbound path (bridge, stream) reports of the envelopes it refuses. */
export interface InboundEnvelopeMetrics {
  envelopeRefused(source: DeliverySource, reason: EnvelopeRejection): void;
}

/** What the order per target reports; the Prometheus implementation lives in metrics/, tests pass fakes. */
export interface TargetOrderMetrics {
  /** A numbered envelope waits for an earlier one of its target. */
  heldForOrder(): void;
  /** Envelopes waiting for an earlier one now. */
  holdingForOrder(envelopes: number): void;
  /** A target's order could not be kept: its clients are closed to re-fetch. */
  orderBroken(reason: OrderBreak): void;
}

/** What delivery reports; the Prometheus implementation lives in metrics/, tests pass fakes. */
export interface DeliveryMetrics extends TargetOrderMetrics {
  envelopeReceived(source: DeliverySource): void;
  duplicateDropped(source: DeliverySource): void;
  /** One protocol's frame written to `sockets` sockets, `bytes` in all. */
  framesWritten(protocol: HubProtocolName, sockets: number, bytes: number): void;
  /** One envelope written to `sockets` sockets. */
  invocationsWritten(source: DeliverySource, sockets: number): void;
  /** From the envelope's publish to its write to client sockets. */
  observeLatency(source: DeliverySource, seconds: number): void;
  /** Connections closed because their target's order could not be kept. */
  orderDisconnected(connections: number): void;
}

export const NO_TARGET_ORDER_METRICS: TargetOrderMetrics = {
  heldForOrder: () => undefined,
  holdingForOrder: () => undefined,
  orderBroken: () => undefined,
};

export const NO_DELIVERY_METRICS: DeliveryMetrics = {
  ...NO_TARGET_ORDER_METRICS,
  envelopeReceived: () => undefined,
  duplicateDropped: () => undefined,
  framesWritten: () => undefined,
  invocationsWritten: () => undefined,
  observeLatency: () => undefined,
  orderDisconnected: () => undefined,
};
