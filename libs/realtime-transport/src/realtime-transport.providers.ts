import { MetricFactory, type RealtimeMetricsOption } from '@realtime-streams/common';
import type { Provider } from '@nestjs/common';
import { EventCoalescer } from './coalescing/event.coalescer';
import { EnvFileReloader } from './config/env-file-reloader';
import { RealtimeSettings } from './config/realtime-settings';
import { resolveRealtimeOptions } from './config/resolve-options';
import { EnvelopeMapper } from './envelope/envelope.mapper';
import { EnvelopeValidator } from '@realtime-streams/contracts';
import { EventIdGenerator } from './envelope/event-id.generator';
import { FallbackChain } from './fallback/fallback-chain';
import { HealthProber } from './fallback/health-prober';
import { RedisHealthIndicator } from './health/redis.health';
import { TransportChainHealthIndicator } from './health/transport-chain.health';
import { RealtimeTransportMetrics } from './metrics/realtime-transport.metrics';
import { OutboxRelay } from './outbox/outbox-relay';
import { EventBusObserver } from './pipeline/event-bus.observer';
import { PublishPipeline } from './pipeline/publish.pipeline';
import { RealtimeEventRegistry } from './pipeline/realtime-event.registry';
import { RealtimePublisher } from './pipeline/realtime.publisher';
import { REALTIME_TRANSPORT_OPTIONS } from './realtime-transport.module-definition';
import { REALTIME_TRANSPORTS, RESOLVED_REALTIME_OPTIONS } from './realtime-transport.constants';
import { RealtimeTransportLifecycle } from './realtime-transport.lifecycle';
import type {
  RealtimeTransportOptions,
  ResolvedRealtimeTransportOptions,
} from './realtime-transport-options.interface';
import { TransportRouter } from './routing/transport.router';
import { createTransports } from './transports/create-transports';
import { InProcessSinkRegistry } from '@realtime-streams/common';
import type { RealtimeTransport } from './transports/realtime-transport.interface';

export const realtimeTransportProviders: Provider[] = [
  {
    provide: RESOLVED_REALTIME_OPTIONS,
    inject: [REALTIME_TRANSPORT_OPTIONS],
    useFactory: (options: RealtimeTransportOptions) => resolveRealtimeOptions(options),
  },
  RealtimeSettings,
  InProcessSinkRegistry,
  {
    provide: RealtimeTransportMetrics,
    inject: [RESOLVED_REALTIME_OPTIONS],
    useFactory: (options: { metrics?: RealtimeMetricsOption }) =>
      new RealtimeTransportMetrics(new MetricFactory(options.metrics)),
  },
  {
    provide: REALTIME_TRANSPORTS,
    inject: [RESOLVED_REALTIME_OPTIONS, InProcessSinkRegistry, RealtimeTransportMetrics],
    useFactory: createTransports,
  },
  {
    provide: FallbackChain,
    inject: [REALTIME_TRANSPORTS, RESOLVED_REALTIME_OPTIONS, RealtimeSettings, RealtimeTransportMetrics],
    useFactory: (
      transports: RealtimeTransport[],
      options: ResolvedRealtimeTransportOptions,
      settings: RealtimeSettings,
      metrics: RealtimeTransportMetrics,
    ) => {
      const router = new TransportRouter(options.transports, settings.flags, options.transport === 'dual');
      const chain = new FallbackChain(transports, router, options, metrics);
      if (options.outbox) chain.useOutbox(new OutboxRelay(options.outbox.store, options.outbox, metrics));
      settings.onChange((flags) => {
        router.apply(flags);
        chain.routingChanged();
      });
      return chain;
    },
  },
  {
    provide: EventCoalescer,
    inject: [FallbackChain, RESOLVED_REALTIME_OPTIONS, RealtimeTransportMetrics],
    useFactory: (chain: FallbackChain, options: ResolvedRealtimeTransportOptions, metrics: RealtimeTransportMetrics) =>
      new EventCoalescer(
        (outbound) => chain.enqueue(outbound),
        {
          defaultWindowMs: options.coalesceWindowMs,
          defaultRefreshMs: options.coalesceRefreshMs,
          maxKeys: options.coalescerMaxKeys,
        },
        metrics,
      ),
  },
  {
    provide: HealthProber,
    inject: [FallbackChain, RESOLVED_REALTIME_OPTIONS],
    useFactory: (chain: FallbackChain, options: ResolvedRealtimeTransportOptions) =>
      new HealthProber(chain.chainLinks, options.probeIntervalMs, options.probeTimeoutMs),
  },
  {
    provide: EnvelopeMapper,
    inject: [RESOLVED_REALTIME_OPTIONS],
    useFactory: (options: ResolvedRealtimeTransportOptions) =>
      new EnvelopeMapper(new EnvelopeValidator(), new EventIdGenerator(), options),
  },
  RealtimeEventRegistry,
  PublishPipeline,
  RealtimePublisher,
  EventBusObserver,
  EnvFileReloader,
  RealtimeTransportLifecycle,
  TransportChainHealthIndicator,
  RedisHealthIndicator,
];

/** What importing modules can inject. */
export const realtimeTransportExports = [
  RealtimePublisher,
  RealtimeSettings,
  EnvFileReloader,
  InProcessSinkRegistry,
  FallbackChain,
  TransportChainHealthIndicator,
  RedisHealthIndicator,
  RESOLVED_REALTIME_OPTIONS,
];
