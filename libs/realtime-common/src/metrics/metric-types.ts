// The shapes the modules' metrics code relies on, declared here instead of imported from prom-client: prom-client is
// an optional peer, and a type imported from it in a published .d.ts fails to type-check (TS2307) in every
// application that does not install it. prom-client's own Registry, Counter, Gauge and Histogram fit these shapes.

/** What the modules need of a metrics registry: pass prom-client's `Registry` (or its default `register`). */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  /** Called by prom-client when a metric is created in this registry. */
  registerMetric(metric: object): void;
}

/** `metrics` option: a prom-client registry of the application's, or `false` for none. */
export type RealtimeMetricsOption = { registry?: MetricsRegistry } | false | undefined;

export interface MetricConfig {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface HistogramConfig extends MetricConfig {
  buckets?: number[];
}

export interface CounterMetric {
  inc(value?: number): void;
  labels(...values: string[]): { inc(value?: number): void };
  remove(...values: string[]): void;
  reset(): void;
}

export interface GaugeMetric {
  inc(value?: number): void;
  dec(value?: number): void;
  set(value: number): void;
  labels(...values: string[]): { inc(value?: number): void; dec(value?: number): void; set(value: number): void };
  remove(...values: string[]): void;
  reset(): void;
}

export interface HistogramMetric {
  observe(value: number): void;
  startTimer(): () => number;
  labels(...values: string[]): { observe(value: number): void };
  remove(...values: string[]): void;
  reset(): void;
}
