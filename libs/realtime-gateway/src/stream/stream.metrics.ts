import type { InboundEnvelopeMetrics } from '../delivery/delivery.metrics';

/** What went wrong in the stream consumer: a Redis error, a command that never answered, an XACK, the monitor. */
export type ConsumerErrorKind = 'redis' | 'timeout' | 'ack' | 'monitor';

/** What the stream consumer and its monitor report; the Prometheus implementation lives in metrics/. */
export interface StreamMetrics extends InboundEnvelopeMetrics {
  consumerError(kind: ConsumerErrorKind): void;
  /** This instance's group on one stream: entries not read yet (-1: unknown), and read but not acknowledged. */
  groupChecked(stream: string, group: string, lag: number, pending: number): void;
  /** This instance's group on `stream` was removed (interest routing stopped reading it): its series go. */
  groupForgotten(stream: string, group: string): void;
  /** Entries for targets with no client here, skipped on their routing key without parsing. */
  entriesForNobody(entries: number): void;
  /** Entries of `stream` this instance never read, counted from the jump in entry numbers. */
  entriesMissed(stream: string, entries: number): void;
  /** Streams Redis lost (or whose last entries it lost) while this instance read them. */
  streamsLost(streams: number): void;
  /** Connections closed because this instance missed stream entries. */
  gapDisconnected(connections: number): void;
}
