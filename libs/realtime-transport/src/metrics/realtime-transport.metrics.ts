import type { MetricFactory } from '@realtime-streams/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { CoalescerDiscardReason, CoalescerMetrics } from '../coalescing/coalescer.metrics';
import type { BreakerState } from '../fallback/circuit-breaker';
import type { FallbackChainMetrics } from '../fallback/fallback-chain.metrics';
import type { DropReason } from '../fallback/pending-buffer';
import type { OutboxDeferReason, OutboxMetrics } from '../outbox/outbox.metrics';
import type { HttpBridgeLaneMetrics, HttpBridgeMetrics } from '../transports/http-bridge.metrics';
import type { TransportName } from '../transports/realtime-transport.interface';

/** Every publisher-side metric, declared in one place. Names start with `realtime_`. */
export const TRANSPORT_METRIC = {
  publishDuration: 'realtime_publish_duration_seconds',
  published: 'realtime_published_envelopes_total',
  fallbackSwitches: 'realtime_fallback_switches_total',
  breakerState: 'realtime_breaker_state',
  bufferDepth: 'realtime_buffer_depth',
  dropped: 'realtime_dropped_envelopes_total',
  rejected: 'realtime_rejected_events_total',
  reloads: 'realtime_settings_reloads_total',
  coalescerIn: 'realtime_coalescer_in_total',
  coalescerOut: 'realtime_coalescer_out_total',
  coalescerDelay: 'realtime_coalescer_delay_seconds',
  coalescerDropped: 'realtime_coalescer_dropped_total',
  replayed: 'realtime_replayed_envelopes_total',
  bridgeLaneDepth: 'realtime_bridge_lane_queue_depth',
  bridgeLaneDropped: 'realtime_bridge_lane_dropped_total',
  bridgeLaneUp: 'realtime_bridge_lane_up',
  bridgeLaneGaveUpReported: 'realtime_bridge_lane_gave_up_reported_total',
  outboxPending: 'realtime_outbox_pending',
  outboxRelayed: 'realtime_outbox_relayed_total',
  outboxRemoved: 'realtime_outbox_removed_total',
  outboxSpilled: 'realtime_outbox_spilled_total',
  outboxDeferred: 'realtime_outbox_deferred_total',
  outboxStoreErrors: 'realtime_outbox_store_errors_total',
} as const;

/** Breaker states as gauge values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Built by the module's provider with its MetricFactory (the `metrics` option). */
export class RealtimeTransportMetrics
  implements FallbackChainMetrics, CoalescerMetrics, HttpBridgeMetrics, OutboxMetrics
{
  /** Label children by event type: the coalescer counts every keystroke, so skip hashing the labels each time. */
  private readonly byType = new Map<
    string,
    { in: Counter.Internal; out: Counter.Internal; delay: Histogram.Internal<string> }
  >();

  private readonly publishDuration: Histogram<string>;
  private readonly published: Counter<string>;
  private readonly switches: Counter<string>;
  private readonly breaker: Gauge<string>;
  private readonly depth: Gauge<string>;
  private readonly drops: Counter<string>;
  private readonly rejects: Counter<string>;
  private readonly reloads: Counter<string>;
  private readonly coalescerIn: Counter<string>;
  private readonly coalescerOut: Counter<string>;
  private readonly coalescerDelay: Histogram<string>;
  private readonly coalescerDropped: Counter<string>;
  private readonly replays: Counter<string>;
  private readonly laneDepth: Gauge<string>;
  private readonly laneDropped: Counter<string>;
  private readonly laneUp: Gauge<string>;
  private readonly laneGaveUpReported: Counter<string>;
  private readonly outboxPendingGauge: Gauge<string>;
  private readonly outboxRelayedCounter: Counter<string>;
  private readonly outboxRemovedCounter: Counter<string>;
  private readonly outboxSpilledCounter: Counter<string>;
  private readonly outboxDeferredCounter: Counter<string>;
  private readonly outboxStoreErrors: Counter<string>;

  constructor(metrics: MetricFactory) {
    this.publishDuration = metrics.histogram({
      name: TRANSPORT_METRIC.publishDuration,
      help: 'Time a transport took to acknowledge one batch of envelopes.',
      labelNames: ['transport', 'outcome'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.published = metrics.counter({
      name: TRANSPORT_METRIC.published,
      help: 'Envelopes written to a transport, by outcome (success or failure).',
      labelNames: ['transport', 'outcome'],
    });
    this.switches = metrics.counter({
      name: TRANSPORT_METRIC.fallbackSwitches,
      help: 'Changes of the transport the primary route uses (none: no transport available).',
      labelNames: ['from', 'to'],
    });
    this.breaker = metrics.gauge({
      name: TRANSPORT_METRIC.breakerState,
      help: 'Circuit breaker state per transport: 0 closed, 1 half-open, 2 open.',
      labelNames: ['transport'],
    });
    this.depth = metrics.gauge({
      name: TRANSPORT_METRIC.bufferDepth,
      help: 'Envelopes waiting for a transport or in flight.',
    });
    this.drops = metrics.counter({
      name: TRANSPORT_METRIC.dropped,
      help: 'Envelopes given up before any transport took them, by reason (max_attempts: envelopes without an outbox record only).',
      labelNames: ['reason'],
    });
    this.rejects = metrics.counter({
      name: TRANSPORT_METRIC.rejected,
      help: 'Events refused before publishing (invalid envelope, args too large, mapping error), by event type.',
      labelNames: ['type', 'reason'],
    });
    this.reloads = metrics.counter({
      name: TRANSPORT_METRIC.reloads,
      help: 'Reloads of the routing flags, by outcome.',
      labelNames: ['outcome'],
    });
    this.coalescerIn = metrics.counter({
      name: TRANSPORT_METRIC.coalescerIn,
      help: 'Coalesced events (typing indicators) entering the coalescer, by event type.',
      labelNames: ['type'],
    });
    this.coalescerOut = metrics.counter({
      name: TRANSPORT_METRIC.coalescerOut,
      help: 'Coalesced events leaving the coalescer, by event type. 1 - out/in is the traffic reduction.',
      labelNames: ['type'],
    });
    this.coalescerDelay = metrics.histogram({
      name: TRANSPORT_METRIC.coalescerDelay,
      help: 'Delay the coalescer added to each event it let out (0 for the first event of a window).',
      labelNames: ['type'],
      buckets: [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
    });
    this.coalescerDropped = metrics.counter({
      name: TRANSPORT_METRIC.coalescerDropped,
      help: 'Coalesced events that never went out, by reason (replaced, unchanged, superseded, shutdown).',
      labelNames: ['type', 'reason'],
    });
    this.replays = metrics.counter({
      name: TRANSPORT_METRIC.replayed,
      help: 'Envelopes sent again on the next transport because the one that acknowledged them failed soon after.',
      labelNames: ['transport'],
    });
    this.laneDepth = metrics.gauge({
      name: TRANSPORT_METRIC.bridgeLaneDepth,
      help: 'Envelopes queued for one gateway instance on the HTTP bridge (in flight included).',
      labelNames: ['instance'],
    });
    this.laneDropped = metrics.counter({
      name: TRANSPORT_METRIC.bridgeLaneDropped,
      help: 'Envelopes the HTTP bridge gave up for one gateway instance (never acknowledged by it), by reason.',
      labelNames: ['instance', 'reason'],
    });
    this.laneUp = metrics.gauge({
      name: TRANSPORT_METRIC.bridgeLaneUp,
      help: 'Whether a gateway instance answered its last HTTP bridge request or probe (1) or not (0).',
      labelNames: ['instance'],
    });
    this.laneGaveUpReported = metrics.counter({
      name: TRANSPORT_METRIC.bridgeLaneGaveUpReported,
      help:
        'Envelopes the HTTP bridge gave up for one gateway instance (every reason but volatile), by what became of ' +
        'the report naming their targets: told (the instance closed those clients so they re-fetch), refused (the ' +
        'instance refused the report: not told), shutdown (the api stopped before the instance was reachable again).',
      labelNames: ['instance', 'outcome'],
    });
    this.outboxPendingGauge = metrics.gauge({
      name: TRANSPORT_METRIC.outboxPending,
      help: 'Outbox records not acknowledged yet, as far as this process knows (in memory, only in the store, left for the next start).',
    });
    this.outboxRelayedCounter = metrics.counter({
      name: TRANSPORT_METRIC.outboxRelayed,
      help: 'Outbox records the relay read back from the store and republished (at start, after a buffer overflow).',
    });
    this.outboxRemovedCounter = metrics.counter({
      name: TRANSPORT_METRIC.outboxRemoved,
      help: 'Outbox records removed from the store after a transport acknowledged their envelope.',
    });
    this.outboxSpilledCounter = metrics.counter({
      name: TRANSPORT_METRIC.outboxSpilled,
      help: 'Outboxed envelopes that found the buffer full (or the relay catching up) and went through the store.',
    });
    this.outboxDeferredCounter = metrics.counter({
      name: TRANSPORT_METRIC.outboxDeferred,
      help: 'Outboxed envelopes left in the store for the next start (not dropped), by reason: shutdown (the flush deadline passed). While the process runs an outboxed envelope is never deferred: out of attempts, it waits in order until a transport takes it.',
      labelNames: ['reason'],
    });
    this.outboxStoreErrors = metrics.counter({
      name: TRANSPORT_METRIC.outboxStoreErrors,
      help: 'Failed outbox store calls (retried), by operation.',
      labelNames: ['operation'],
    });
  }

  outboxPending(count: number): void {
    this.outboxPendingGauge.set(count);
  }

  outboxRelayed(count: number): void {
    this.outboxRelayedCounter.inc(count);
  }

  outboxRemoved(count: number): void {
    this.outboxRemovedCounter.inc(count);
  }

  outboxSpilled(count: number): void {
    this.outboxSpilledCounter.inc(count);
  }

  outboxDeferred(reason: OutboxDeferReason, count: number): void {
    this.outboxDeferredCounter.inc({ reason }, count);
  }

  outboxStoreError(operation: 'pending' | 'remove'): void {
    this.outboxStoreErrors.inc({ operation });
  }

  lane(instance: string): HttpBridgeLaneMetrics {
    const depth = this.laneDepth.labels(instance);
    const up = this.laneUp.labels(instance);
    return {
      queueDepth: (value) => depth.set(value),
      dropped: (reason, count) => this.laneDropped.inc({ instance, reason }, count),
      up: (value) => up.set(value ? 1 : 0),
      gaveUpReported: (outcome, count) => this.laneGaveUpReported.inc({ instance, outcome }, count),
    };
  }

  observePublish(transport: TransportName, ok: boolean, envelopes: number, seconds: number): void {
    const outcome = ok ? 'success' : 'failure';
    this.publishDuration.observe({ transport, outcome }, seconds);
    this.published.inc({ transport, outcome }, envelopes);
  }

  fallbackSwitch(from: TransportName | 'none', to: TransportName | 'none'): void {
    this.switches.inc({ from, to });
  }

  breakerState(transport: TransportName, state: BreakerState): void {
    this.breaker.set({ transport }, BREAKER_STATE_VALUE[state]);
  }

  bufferDepth(depth: number): void {
    this.depth.set(depth);
  }

  rejected(type: string, reason: string): void {
    this.rejects.inc({ type, reason });
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ outcome: ok ? 'success' : 'failure' });
  }

  received(type: string): void {
    this.typeMetrics(type).in.inc();
  }

  emitted(type: string, delayMs: number): void {
    const metrics = this.typeMetrics(type);
    metrics.out.inc();
    metrics.delay.observe(delayMs / 1000);
  }

  dropped(reason: DropReason, count: number): void {
    this.drops.inc({ reason }, count);
  }

  replayed(transport: TransportName, count: number): void {
    this.replays.inc({ transport }, count);
  }

  discarded(type: string, reason: CoalescerDiscardReason): void {
    this.coalescerDropped.inc({ type, reason });
  }

  private typeMetrics(type: string) {
    let metrics = this.byType.get(type);
    if (!metrics) {
      metrics = {
        in: this.coalescerIn.labels(type),
        out: this.coalescerOut.labels(type),
        delay: this.coalescerDelay.labels(type),
      };
      this.byType.set(type, metrics);
    }
    return metrics;
  }
}
