import type { MetricFactory } from '@realtime-streams/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { BridgeBodyRefusal } from '../bridge/bridge-body';
import type { BridgeReceiverMetrics } from '../bridge/bridge-receiver.metrics';
import type { DeliveryMetrics } from '../delivery/delivery.metrics';
import type { OrderBreak } from '../delivery/target-order';
import type { AuthFailure, ClientLimit, ClientProtocolError, ConnectionKind, HubMetrics } from '../hub/hub.metrics';
import type { HubProtocolName } from '../hub/protocols/hub-protocol-codec';
import type { ResumeFailure } from '../hub/session/session-replay';
import type { SessionWriteKind, StatefulSessionMetrics } from '../hub/session/stateful-sessions.metrics';
import type { ShardInterestMetrics } from '../stream/shard-interest';
import type { ConsumerErrorKind, StreamMetrics } from '../stream/stream.metrics';

/** Where an envelope reached the gateway from. */
export type DeliverySource = 'redis-streams' | 'http-bridge' | 'in-process';

/** Why an inbound envelope was refused: the schema, `envelopes.maxArgsBytes`, `envelopes.maxArgsDepth`. */
export type EnvelopeRejection = 'invalid' | 'too_large' | 'too_deep';

/** Every gateway-side metric, declared in one place. Names start with `realtime_`. */
export const GATEWAY_METRIC = {
  connections: 'realtime_gateway_connections',
  connectionsByKind: 'realtime_hub_connections',
  framesByProtocol: 'realtime_hub_invocation_frames_total',
  bytesByProtocol: 'realtime_hub_invocation_bytes_total',
  invocationsSent: 'realtime_gateway_invocations_sent_total',
  deliveryLatency: 'realtime_delivery_latency_seconds',
  envelopesReceived: 'realtime_gateway_envelopes_received_total',
  invalidEnvelopes: 'realtime_gateway_invalid_envelopes_total',
  dedupDropped: 'realtime_dedup_dropped_total',
  slowClientDrops: 'realtime_slow_client_drops_total',
  slowClientDisconnects: 'realtime_slow_client_disconnects_total',
  clientProtocolErrors: 'realtime_hub_protocol_errors_total',
  streamLag: 'realtime_stream_lag',
  streamPending: 'realtime_stream_pending',
  consumerErrors: 'realtime_consumer_errors_total',
  consumerGaps: 'realtime_consumer_gaps_total',
  gapEntries: 'realtime_stream_gap_entries_total',
  entriesForNobody: 'realtime_stream_entries_for_nobody_total',
  shardsRead: 'realtime_stream_shards_read',
  shardReadingChanges: 'realtime_stream_shard_reading_changes_total',
  gapDisconnects: 'realtime_stream_gap_disconnects_total',
  bridgeGaveUpReports: 'realtime_bridge_gave_up_reports_total',
  bridgeGaveUpDisconnects: 'realtime_bridge_gave_up_disconnects_total',
  bridgeRefusedBodies: 'realtime_bridge_refused_bodies_total',
  orderHeld: 'realtime_order_held_total',
  orderHolding: 'realtime_order_holding',
  orderGivenUp: 'realtime_order_given_up_total',
  orderDisconnects: 'realtime_order_disconnects_total',
  clientLimitHits: 'realtime_client_limit_hits_total',
  authFailures: 'realtime_hub_auth_failures_total',
  sessionsResumed: 'realtime_hub_sessions_resumed_total',
  messagesReplayed: 'realtime_hub_messages_replayed_total',
  resumeFailures: 'realtime_hub_resume_failures_total',
  replayBufferBytes: 'realtime_hub_replay_buffer_bytes',
  sessionWrites: 'realtime_hub_session_writes_total',
  sessionWriteBytes: 'realtime_hub_session_write_bytes_total',
} as const;

/** Built by the module's provider with its MetricFactory (the `metrics` option). */
export class RealtimeGatewayMetrics
  implements
    DeliveryMetrics,
    HubMetrics,
    StatefulSessionMetrics,
    StreamMetrics,
    BridgeReceiverMetrics,
    ShardInterestMetrics
{
  private readonly byTransport = new Map<
    string,
    { sent: Counter.Internal; latency: Histogram.Internal<string>; received: Counter.Internal }
  >();

  private readonly connections: Gauge<string>;
  private readonly connectionsByKind: Gauge<string>;
  private readonly framesByProtocol: Counter<string>;
  private readonly bytesByProtocol: Counter<string>;
  private readonly byProtocol = new Map<string, { frames: Counter.Internal; bytes: Counter.Internal }>();
  private readonly invocationsSent: Counter<string>;
  private readonly deliveryLatency: Histogram<string>;
  private readonly envelopesReceived: Counter<string>;
  private readonly invalidEnvelopes: Counter<string>;
  private readonly dedupDropped: Counter<string>;
  private readonly slowClientDrops: Counter<string>;
  private readonly slowClientDisconnects: Counter<string>;
  private readonly clientProtocolErrors: Counter<string>;
  private readonly streamLag: Gauge<string>;
  private readonly streamPending: Gauge<string>;
  private readonly consumerErrors: Counter<string>;
  private readonly consumerGaps: Counter<string>;
  private readonly gapEntries: Counter<string>;
  private readonly entriesForNobodyCounter: Counter<string>;
  private readonly shardsReadGauge: Gauge<string>;
  private readonly shardReadingChanges: Counter<string>;
  private readonly gapDisconnects: Counter<string>;
  private readonly bridgeGaveUpReports: Counter<string>;
  private readonly bridgeGaveUpDisconnects: Counter<string>;
  private readonly bridgeRefusedBodies: Counter<string>;
  private readonly orderHeld: Counter<string>;
  private readonly orderHolding: Gauge<string>;
  private readonly orderGivenUp: Counter<string>;
  private readonly orderDisconnects: Counter<string>;
  private readonly clientLimitHits: Counter<string>;
  private readonly authFailures: Counter<string>;
  private readonly sessionsResumed: Counter<string>;
  private readonly messagesReplayed: Counter<string>;
  private readonly resumeFailures: Counter<string>;
  private readonly replayBufferBytes: Gauge<string>;
  private readonly sessionWrites: Counter<string>;
  private readonly sessionWriteBytes: Counter<string>;

  constructor(metrics: MetricFactory) {
    this.connections = metrics.gauge({
      name: GATEWAY_METRIC.connections,
      help: 'Open hub connections (after the handshake).',
    });
    this.connectionsByKind = metrics.gauge({
      name: GATEWAY_METRIC.connectionsByKind,
      help: 'Open hub connections (after the handshake), by hub protocol and transport.',
      labelNames: ['protocol', 'transport'],
    });
    this.framesByProtocol = metrics.counter({
      name: GATEWAY_METRIC.framesByProtocol,
      help: 'Delivered invocations written to clients, by hub protocol (each envelope is encoded once per protocol).',
      labelNames: ['protocol'],
    });
    this.bytesByProtocol = metrics.counter({
      name: GATEWAY_METRIC.bytesByProtocol,
      help: 'Bytes of delivered invocations written to clients, by hub protocol (before transport framing).',
      labelNames: ['protocol'],
    });
    this.invocationsSent = metrics.counter({
      name: GATEWAY_METRIC.invocationsSent,
      help: 'Invocations written to client sockets (one per recipient), by the transport the envelope came from.',
      labelNames: ['transport'],
    });
    this.deliveryLatency = metrics.histogram({
      name: GATEWAY_METRIC.deliveryLatency,
      help: 'End-to-end delivery latency: from the envelope ts (publish) to the write to client sockets.',
      labelNames: ['transport'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
    });
    this.envelopesReceived = metrics.counter({
      name: GATEWAY_METRIC.envelopesReceived,
      help: 'Envelopes that reached the gateway, by transport (stream entries for nobody here are skipped unparsed: see realtime_stream_entries_for_nobody_total).',
      labelNames: ['transport'],
    });
    this.invalidEnvelopes = metrics.counter({
      name: GATEWAY_METRIC.invalidEnvelopes,
      help:
        'Envelopes refused (a bridge batch answered 400, a stream entry skipped), by transport and reason: invalid ' +
        '(the envelope schema), too_large (args over envelopes.maxArgsBytes), too_deep (over envelopes.maxArgsDepth).',
      labelNames: ['transport', 'reason'],
    });
    this.dedupDropped = metrics.counter({
      name: GATEWAY_METRIC.dedupDropped,
      help: 'Envelopes dropped as duplicates of one already delivered (dual write, redelivery, retries).',
      labelNames: ['transport'],
    });
    this.slowClientDrops = metrics.counter({
      name: GATEWAY_METRIC.slowClientDrops,
      help: 'Volatile envelopes not sent to a client whose socket is backed up.',
    });
    this.slowClientDisconnects = metrics.counter({
      name: GATEWAY_METRIC.slowClientDisconnects,
      help: 'Clients closed because their socket stayed backed up past the hard bound.',
    });
    this.clientProtocolErrors = metrics.counter({
      name: GATEWAY_METRIC.clientProtocolErrors,
      help: 'Client connections closed for a protocol error (bad frame, garbage JSON, oversized message), by reason.',
      labelNames: ['reason'],
    });
    this.streamLag = metrics.gauge({
      name: GATEWAY_METRIC.streamLag,
      help:
        "Entries appended to the stream and not yet read by this instance: the shard's counter minus the last entry " +
        'number it read (XINFO GROUPS lag for streams without numbered entries; -1: unknown).',
      labelNames: ['stream', 'group'],
    });
    this.streamPending = metrics.gauge({
      name: GATEWAY_METRIC.streamPending,
      help: "Entries delivered to this instance's group and not acknowledged yet (XINFO GROUPS pending).",
      labelNames: ['stream', 'group'],
    });
    this.consumerErrors = metrics.counter({
      name: GATEWAY_METRIC.consumerErrors,
      help: 'Errors of the stream consumer loop, by kind.',
      labelNames: ['kind'],
    });
    this.consumerGaps = metrics.counter({
      name: GATEWAY_METRIC.consumerGaps,
      help:
        'Streams Redis lost (restarted empty) while this instance read them: its group was recreated and what it had ' +
        'not read is gone, in a number nobody can know (what can be counted is in realtime_stream_gap_entries_total).',
    });
    this.gapEntries = metrics.counter({
      name: GATEWAY_METRIC.gapEntries,
      help:
        'Stream entries this instance never read (trimmed before it got to them, or lost), counted exactly from the ' +
        'jump in entry numbers (n).',
      labelNames: ['stream'],
    });
    this.entriesForNobodyCounter = metrics.counter({
      name: GATEWAY_METRIC.entriesForNobody,
      help:
        'Stream entries this instance read for a target with no client here, skipped on their routing key without ' +
        'parsing the envelope: what a gateway pays for rooms it has no member of.',
    });
    this.shardsReadGauge = metrics.gauge({
      name: GATEWAY_METRIC.shardsRead,
      help:
        'Stream shards this instance reads now. With interest routing, the shards holding a target (room, user, ' +
        'everyone) with a connection here, plus those read on for redis.routingLingerMs after their last one left.',
    });
    this.shardReadingChanges = metrics.counter({
      name: GATEWAY_METRIC.shardReadingChanges,
      help:
        'Interest routing: shard readings started (a first member here), stopped (none left after the linger), or ' +
        'that failed to start (Redis unreachable; retried).',
      labelNames: ['change'],
    });
    this.gapDisconnects = metrics.counter({
      name: GATEWAY_METRIC.gapDisconnects,
      help: 'Connections closed (reconnectable) because this instance missed stream entries, so clients re-fetch.',
    });
    this.bridgeGaveUpReports = metrics.counter({
      name: GATEWAY_METRIC.bridgeGaveUpReports,
      help:
        "Reports from a publisher's HTTP bridge lane naming the targets of envelopes it gave up for this instance " +
        '(waited past laneRetryMs, over laneQueueEnvelopes, or refused).',
    });
    this.bridgeGaveUpDisconnects = metrics.counter({
      name: GATEWAY_METRIC.bridgeGaveUpDisconnects,
      help:
        'Connections closed (reconnectable) because a bridge lane gave up envelopes for their targets, so clients ' +
        're-fetch.',
    });
    this.bridgeRefusedBodies = metrics.counter({
      name: GATEWAY_METRIC.bridgeRefusedBodies,
      help:
        'Bridge requests refused (400) for their body, by reason: not_json, malformed (neither an array of ' +
        'envelopes nor { envelopes, gaveUp }), bad_report (gaveUp not a list of at most 1000 targets). Invalid ' +
        'envelopes are counted in realtime_gateway_invalid_envelopes_total.',
      labelNames: ['reason'],
    });
    this.orderHeld = metrics.counter({
      name: GATEWAY_METRIC.orderHeld,
      help:
        'Numbered envelopes (seq) that arrived before an earlier one of their target and waited for it: two api ' +
        'instances, or two transports, published them in another order than the database committed them.',
    });
    this.orderHolding = metrics.gauge({
      name: GATEWAY_METRIC.orderHolding,
      help: 'Numbered envelopes waiting for an earlier one of their target now (bounded by ordering.maxHeld).',
    });
    this.orderGivenUp = metrics.counter({
      name: GATEWAY_METRIC.orderGivenUp,
      help:
        "Times a target's order could not be kept and its clients were closed to re-fetch, by reason: timeout (an " +
        'earlier envelope missing past ordering.holdMs), late (an earlier one came after a later one went out), ' +
        'overflow (ordering.maxHeld reached).',
      labelNames: ['reason'],
    });
    this.orderDisconnects = metrics.counter({
      name: GATEWAY_METRIC.orderDisconnects,
      help: "Connections closed (reconnectable) because their target's order could not be kept, so clients re-fetch.",
    });
    this.clientLimitHits = metrics.counter({
      name: GATEWAY_METRIC.clientLimitHits,
      help: 'Client requests refused by a per-client limit (invocations, invocations_close, groups, connections).',
      labelNames: ['limit'],
    });
    this.authFailures = metrics.counter({
      name: GATEWAY_METRIC.authFailures,
      help: 'Negotiations and connects refused for their token, and connections closed when their token expired.',
      labelNames: ['reason'],
    });
    this.sessionsResumed = metrics.counter({
      name: GATEWAY_METRIC.sessionsResumed,
      help: 'Stateful-reconnect sessions resumed, on the instance that held them (same) or another one (other).',
      labelNames: ['instance'],
    });
    this.messagesReplayed = metrics.counter({
      name: GATEWAY_METRIC.messagesReplayed,
      help: 'Messages resent to resumed sessions (from the replay buffer, a handed-over record or the stream).',
    });
    this.resumeFailures = metrics.counter({
      name: GATEWAY_METRIC.resumeFailures,
      help:
        'Stateful-reconnect sessions that could not be resumed, by reason: unknown (no such session: expired, ended, ' +
        'never existed), wrong_user, behind (the record did not show the last invocations), overflow, busy, foreign, ' +
        'several_shards, too_far_behind, mismatch, out_of_order (a target whose numbered envelopes the replay could ' +
        'not give in number order), redis (resumes refused: ' +
        'the client starts a new connection), and expired (a session whose window passed without its client). A ' +
        'session closed for its replay buffer is counted in realtime_client_limit_hits_total{limit="replay_buffer"}.',
      labelNames: ['reason'],
    });
    this.replayBufferBytes = metrics.gauge({
      name: GATEWAY_METRIC.replayBufferBytes,
      help:
        'Bytes stateful-reconnect sessions hold for a resume (sent and not acknowledged, and group changes since), ' +
        'summed over this instance.',
    });
    this.sessionWrites = metrics.counter({
      name: GATEWAY_METRIC.sessionWrites,
      help:
        'Session records sent to Redis, by kind: checkpoint (a connected session, at most once per second), ' +
        'detached (its socket went, or shutdown), behind (a few bytes: the record is behind), too_large (not written).',
      labelNames: ['kind'],
    });
    this.sessionWriteBytes = metrics.counter({
      name: GATEWAY_METRIC.sessionWriteBytes,
      help: 'Bytes of session records sent to Redis.',
    });
  }

  envelopeReceived(source: DeliverySource): void {
    this.forTransport(source).received.inc();
  }

  duplicateDropped(source: DeliverySource): void {
    this.dedupDropped.inc({ transport: source });
  }

  slowClientDropped(): void {
    this.slowClientDrops.inc();
  }

  framesWritten(protocol: HubProtocolName, sockets: number, bytes: number): void {
    const children = this.forProtocol(protocol);
    children.frames.inc(sockets);
    children.bytes.inc(bytes);
  }

  invocationsWritten(source: DeliverySource, sockets: number): void {
    this.forTransport(source).sent.inc(sockets);
  }

  observeLatency(source: DeliverySource, seconds: number): void {
    this.forTransport(source).latency.observe(seconds);
  }

  orderDisconnected(connections: number): void {
    this.orderDisconnects.inc(connections);
  }

  heldForOrder(): void {
    this.orderHeld.inc();
  }

  holdingForOrder(envelopes: number): void {
    this.orderHolding.set(envelopes);
  }

  orderBroken(reason: OrderBreak): void {
    this.orderGivenUp.inc({ reason });
  }

  envelopeRefused(source: DeliverySource, reason: EnvelopeRejection): void {
    this.invalidEnvelopes.inc({ transport: source, reason });
  }

  connectionOpened(kind: ConnectionKind): void {
    this.connections.inc();
    this.connectionsByKind.inc(kind);
  }

  connectionClosed(kind: ConnectionKind): void {
    this.connections.dec();
    this.connectionsByKind.dec(kind);
  }

  protocolError(reason: ClientProtocolError): void {
    this.clientProtocolErrors.inc({ reason });
  }

  clientLimitHit(limit: ClientLimit): void {
    this.clientLimitHits.inc({ limit });
  }

  authFailed(reason: AuthFailure): void {
    this.authFailures.inc({ reason });
  }

  sessionResumed(instance: 'same' | 'other', replayed: number): void {
    this.sessionsResumed.inc({ instance });
    this.messagesReplayed.inc(replayed);
  }

  slowClientDisconnected(): void {
    this.slowClientDisconnects.inc();
  }

  resumeFailed(reason: ResumeFailure | 'expired'): void {
    this.resumeFailures.inc({ reason });
  }

  sessionWritten(kind: SessionWriteKind, bytes?: number): void {
    this.sessionWrites.inc({ kind });
    if (bytes !== undefined) this.sessionWriteBytes.inc(bytes);
  }

  replayBuffered(bytes: number): void {
    this.replayBufferBytes.set(bytes);
  }

  consumerError(kind: ConsumerErrorKind): void {
    this.consumerErrors.inc({ kind });
  }

  groupChecked(stream: string, group: string, lag: number, pending: number): void {
    this.streamLag.set({ stream, group }, lag);
    this.streamPending.set({ stream, group }, pending);
  }

  groupForgotten(stream: string, group: string): void {
    this.streamLag.remove({ stream, group });
    this.streamPending.remove({ stream, group });
  }

  shardsRead(count: number): void {
    this.shardsReadGauge.set(count);
  }

  shardReading(change: 'started' | 'stopped' | 'failed'): void {
    this.shardReadingChanges.inc({ change });
  }

  entriesForNobody(entries: number): void {
    this.entriesForNobodyCounter.inc(entries);
  }

  entriesMissed(stream: string, entries: number): void {
    this.gapEntries.inc({ stream }, entries);
  }

  streamsLost(streams: number): void {
    this.consumerGaps.inc(streams);
  }

  gapDisconnected(connections: number): void {
    this.gapDisconnects.inc(connections);
  }

  bodyRefused(reason: BridgeBodyRefusal): void {
    this.bridgeRefusedBodies.inc({ reason });
  }

  gaveUpReported(connections: number): void {
    this.bridgeGaveUpReports.inc();
    this.bridgeGaveUpDisconnects.inc(connections);
  }

  /** Label children per protocol and per transport, so the per-envelope path does not hash labels. */
  private forProtocol(protocol: string) {
    let children = this.byProtocol.get(protocol);
    if (!children) {
      children = { frames: this.framesByProtocol.labels(protocol), bytes: this.bytesByProtocol.labels(protocol) };
      this.byProtocol.set(protocol, children);
    }
    return children;
  }

  private forTransport(transport: DeliverySource) {
    let children = this.byTransport.get(transport);
    if (!children) {
      children = {
        sent: this.invocationsSent.labels(transport),
        latency: this.deliveryLatency.labels(transport),
        received: this.envelopesReceived.labels(transport),
      };
      this.byTransport.set(transport, children);
    }
    return children;
  }
}
