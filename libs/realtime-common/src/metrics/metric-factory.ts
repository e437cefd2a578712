import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type {
  CounterMetric,
  GaugeMetric,
  HistogramConfig,
  HistogramMetric,
  MetricConfig,
  RealtimeMetricsOption,
} from './metric-types';

type PromClient = typeof import('prom-client');

/**
 * Makes the modules' metrics. With prom-client installed (an optional peer) they live in the registry the
 * application gave, else in prom-client's default one (what `@willsoto/nestjs-prometheus` serves on /metrics); a
 * metric already registered under the same name is reused, so two modules or two apps in one process share it.
 * Without prom-client, or with `metrics: false`, every metric is a no-op.
 *
 * Each method returns the type its caller asks for (`M`, inferred from the field it is assigned to): the modules
 * type their fields with prom-client's classes, while this package's declarations name only the shapes in
 * `metric-types.ts`.
 */
export class MetricFactory {
  private readonly prom?: PromClient;
  private readonly registry?: Registry;

  constructor(option: RealtimeMetricsOption) {
    if (option === false) return;
    this.prom = loadPromClient();
    // A registry the application passed is prom-client's own (the shape is all the declarations can say).
    this.registry = (option?.registry as Registry | undefined) ?? this.prom?.register;
  }

  counter<M extends CounterMetric = CounterMetric>(config: MetricConfig): M {
    return this.make(config, (registers) => new this.prom!.Counter({ ...config, registers }));
  }

  gauge<M extends GaugeMetric = GaugeMetric>(config: MetricConfig): M {
    return this.make(config, (registers) => new this.prom!.Gauge({ ...config, registers }));
  }

  histogram<M extends HistogramMetric = HistogramMetric>(config: HistogramConfig): M {
    return this.make(config, (registers) => new this.prom!.Histogram({ ...config, registers }));
  }

  private make<M>(config: { name: string }, create: (registers: Registry[]) => Counter | Gauge | Histogram): M {
    if (!this.prom || !this.registry) return NOOP_METRIC as M;
    return ((this.registry.getSingleMetric(config.name) as M | undefined) ?? create([this.registry])) as M;
  }
}

// Where config/shared-settings.ts has always imported it from.
export type { RealtimeMetricsOption };

function loadPromClient(): PromClient | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded only when installed
    return require('prom-client') as PromClient;
  } catch {
    return undefined;
  }
}

const NOOP_CHILD = { inc() {}, dec() {}, set() {}, observe() {}, startTimer: () => () => 0 };
const NOOP_METRIC = { ...NOOP_CHILD, labels: () => NOOP_CHILD, remove() {}, reset() {} };
