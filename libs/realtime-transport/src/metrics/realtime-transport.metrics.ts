import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
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
  outboxPending: 'realtime_outbox_pending',
  outboxRelayed: 'realtime_outbox_relayed_total',
  outboxRemoved: 'realtime_outbox_removed_total',
  outboxSpilled: 'realtime_outbox_spilled_total',
  outboxDeferred: 'realtime_outbox_deferred_total',
  outboxStoreErrors: 'realtime_outbox_store_errors_total',
} as const;

/** Breaker states as gauge values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export const transportMetricProviders = [
  makeHistogramProvider({
    name: TRANSPORT_METRIC.publishDuration,
    help: 'Time a transport took to acknowledge one batch of envelopes.',
    labelNames: ['transport', 'outcome'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.published,
    help: 'Envelopes written to a transport, by outcome (success or failure).',
    labelNames: ['transport', 'outcome'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.fallbackSwitches,
    help: 'Changes of the transport the primary route uses (none: no transport available).',
    labelNames: ['from', 'to'],
  }),
  makeGaugeProvider({
    name: TRANSPORT_METRIC.breakerState,
    help: 'Circuit breaker state per transport: 0 closed, 1 half-open, 2 open.',
    labelNames: ['transport'],
  }),
  makeGaugeProvider({
    name: TRANSPORT_METRIC.bufferDepth,
    help: 'Envelopes waiting for a transport or in flight.',
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.dropped,
    help: 'Envelopes given up before any transport took them, by reason.',
    labelNames: ['reason'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.rejected,
    help: 'Events refused before publishing (invalid envelope, args too large, mapping error), by event type.',
    labelNames: ['type', 'reason'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.reloads,
    help: 'Reloads of the routing flags, by outcome.',
    labelNames: ['outcome'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.replayed,
    help: 'Envelopes sent again on the next transport because the one that acknowledged them failed soon after.',
    labelNames: ['transport'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.coalescerIn,
    help: 'Coalesced events (typing indicators) entering the coalescer, by event type.',
    labelNames: ['type'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.coalescerOut,
    help: 'Coalesced events leaving the coalescer, by event type. 1 - out/in is the traffic reduction.',
    labelNames: ['type'],
  }),
  makeHistogramProvider({
    name: TRANSPORT_METRIC.coalescerDelay,
    help: 'Delay the coalescer added to each event it let out (0 for the first event of a window).',
    labelNames: ['type'],
    buckets: [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.coalescerDropped,
    help: 'Coalesced events that never went out, by reason (replaced, unchanged, superseded, shutdown).',
    labelNames: ['type', 'reason'],
  }),
  makeGaugeProvider({
    name: TRANSPORT_METRIC.bridgeLaneDepth,
    help: 'Envelopes queued for one gateway instance on the HTTP bridge (in flight included).',
    labelNames: ['instance'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.bridgeLaneDropped,
    help: 'Envelopes the HTTP bridge gave up for one gateway instance (never acknowledged by it), by reason.',
    labelNames: ['instance', 'reason'],
  }),
  makeGaugeProvider({
    name: TRANSPORT_METRIC.bridgeLaneUp,
    help: 'Whether a gateway instance answered its last HTTP bridge request or probe (1) or not (0).',
    labelNames: ['instance'],
  }),
  makeGaugeProvider({
    name: TRANSPORT_METRIC.outboxPending,
    help: 'Outbox records not acknowledged yet, as far as this process knows (in memory, only in the store, left for the next start).',
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.outboxRelayed,
    help: 'Outbox records the relay read back from the store and republished (at start, after a buffer overflow).',
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.outboxRemoved,
    help: 'Outbox records removed from the store after a transport acknowledged their envelope.',
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.outboxSpilled,
    help: 'Outboxed envelopes that found the buffer full (or the relay catching up) and went through the store.',
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.outboxDeferred,
    help: 'Outboxed envelopes left in the store for the next start (not dropped), by reason.',
    labelNames: ['reason'],
  }),
  makeCounterProvider({
    name: TRANSPORT_METRIC.outboxStoreErrors,
    help: 'Failed outbox store calls (retried), by operation.',
    labelNames: ['operation'],
  }),
];

@Injectable()
export class RealtimeTransportMetrics
  implements FallbackChainMetrics, CoalescerMetrics, HttpBridgeMetrics, OutboxMetrics
{
  /** Label children by event type: the coalescer counts every keystroke, so skip hashing the labels each time. */
  private readonly byType = new Map<
    string,
    { in: Counter.Internal; out: Counter.Internal; delay: Histogram.Internal<string> }
  >();

  constructor(
    @InjectMetric(TRANSPORT_METRIC.publishDuration) private readonly publishDuration: Histogram<string>,
    @InjectMetric(TRANSPORT_METRIC.published) private readonly published: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.fallbackSwitches) private readonly switches: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.breakerState) private readonly breaker: Gauge<string>,
    @InjectMetric(TRANSPORT_METRIC.bufferDepth) private readonly depth: Gauge<string>,
    @InjectMetric(TRANSPORT_METRIC.dropped) private readonly drops: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.rejected) private readonly rejects: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.reloads) private readonly reloads: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.coalescerIn) private readonly coalescerIn: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.coalescerOut) private readonly coalescerOut: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.coalescerDelay) private readonly coalescerDelay: Histogram<string>,
    @InjectMetric(TRANSPORT_METRIC.coalescerDropped) private readonly coalescerDropped: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.replayed) private readonly replays: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.bridgeLaneDepth) private readonly laneDepth: Gauge<string>,
    @InjectMetric(TRANSPORT_METRIC.bridgeLaneDropped) private readonly laneDropped: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.bridgeLaneUp) private readonly laneUp: Gauge<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxPending) private readonly outboxPendingGauge: Gauge<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxRelayed) private readonly outboxRelayedCounter: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxRemoved) private readonly outboxRemovedCounter: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxSpilled) private readonly outboxSpilledCounter: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxDeferred) private readonly outboxDeferredCounter: Counter<string>,
    @InjectMetric(TRANSPORT_METRIC.outboxStoreErrors) private readonly outboxStoreErrors: Counter<string>,
  ) {}

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
