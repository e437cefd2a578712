import { type Counter, type Gauge, type Histogram, Registry } from 'prom-client';
import { MetricFactory } from './metric-factory';
import type { RealtimeMetricsOption } from './metric-types';

describe('MetricFactory', () => {
  it("makes prom-client metrics in the application's registry, typed as the caller's fields are", async () => {
    // Compiles only while prom-client's own Registry and metric classes fit the package's structural shapes.
    const registry = new Registry();
    const option: RealtimeMetricsOption = { registry };
    const factory = new MetricFactory(option);

    const counter: Counter<string> = factory.counter({ name: 'test_total', help: 'h', labelNames: ['kind'] });
    const gauge: Gauge<string> = factory.gauge({ name: 'test_depth', help: 'h' });
    const histogram: Histogram<string> = factory.histogram({ name: 'test_seconds', help: 'h', buckets: [0.1, 1] });
    counter.labels('a').inc(2);
    gauge.set(3);
    histogram.observe(0.5);

    const text = await registry.metrics();
    expect(text).toContain('test_total{kind="a"} 2');
    expect(text).toContain('test_depth 3');
    expect(text).toContain('test_seconds_count 1');
  });

  it('reuses a metric already registered under the same name (two modules, one registry)', () => {
    const registry = new Registry();
    const first = new MetricFactory({ registry }).counter({ name: 'shared_total', help: 'h' });
    const second = new MetricFactory({ registry }).counter({ name: 'shared_total', help: 'h' });
    expect(second).toBe(first);
  });

  it('makes no-op metrics with metrics: false', () => {
    const factory = new MetricFactory(false);
    const counter = factory.counter({ name: 'off_total', help: 'h', labelNames: ['kind'] });
    const histogram = factory.histogram({ name: 'off_seconds', help: 'h' });
    expect(() => {
      counter.labels('a').inc();
      factory.gauge({ name: 'off_depth', help: 'h' }).labels('a').set(1);
      histogram.startTimer()();
    }).not.toThrow();
  });
});
