import type {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Registry,
} from 'prom-client';

/** `metrics` option: a prom-client registry of the application's, or `false` for none. */
export type RealtimeMetricsOption = { registry?: Registry } | false | undefined;

type PromClient = typeof import('prom-client');

/**
 * Makes the modules' metrics. With prom-client installed (an optional peer) they live in the registry the
 * application gave, else in prom-client's default one (what `@willsoto/nestjs-prometheus` serves on /metrics); a
 * metric already registered under the same name is reused, so two modules or two apps in one process share it.
 * Without prom-client, or with `metrics: false`, every metric is a no-op.
 */
export class MetricFactory {
  private readonly prom?: PromClient;
  private readonly registry?: Registry;

  constructor(option: RealtimeMetricsOption) {
    if (option === false) return;
    this.prom = loadPromClient();
    this.registry = option?.registry ?? this.prom?.register;
  }

  counter(config: CounterConfiguration<string>): Counter<string> {
    return this.make(config, (registers) => new this.prom!.Counter({ ...config, registers }));
  }

  gauge(config: GaugeConfiguration<string>): Gauge<string> {
    return this.make(config, (registers) => new this.prom!.Gauge({ ...config, registers }));
  }

  histogram(config: HistogramConfiguration<string>): Histogram<string> {
    return this.make(config, (registers) => new this.prom!.Histogram({ ...config, registers }));
  }

  private make<M>(config: { name: string }, create: (registers: Registry[]) => M): M {
    if (!this.prom || !this.registry) return NOOP_METRIC as M;
    return (this.registry.getSingleMetric(config.name) as M | undefined) ?? create([this.registry]);
  }
}

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
