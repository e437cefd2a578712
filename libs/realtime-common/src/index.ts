// Helpers the transport and the gateway share. Not an application API: no compatibility promise between versions.
export { InvalidRealtimeConfigError, type ConfigProblemDetails } from './invalid-realtime-config.error';
export { UnknownRealtimeOptionError } from './unknown-realtime-option.error';
export { errorMessage } from './error-message';
export { redactUrl } from './redact-url';
export { withTimeout, TimeoutError } from './with-timeout';
export {
  createFailFastRedis,
  closeRedis,
  isCluster,
  isClusterConfig,
  streamKeyLayoutOf,
  type RedisConnection,
} from './fail-fast-redis';
export { clusterSeeds } from './config/cluster-nodes';
export { InProcessSinkRegistry, type InProcessSink } from './in-process-sink.registry';
export { isProductionEnv, type Env } from './env';
export * from './config';
export { healthCheck, type RealtimeHealthResult } from './health-check';
export { envVariables, type EnvVariable } from './env-variables';
export { MetricFactory } from './metrics/metric-factory';
export type {
  RealtimeMetricsOption,
  MetricsRegistry,
  MetricConfig,
  HistogramConfig,
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
} from './metrics/metric-types';
export {
  STREAM_LAYOUTS_KEY,
  LAYOUT_ANNOUNCE_INTERVAL_MS,
  LAYOUT_STALE_AFTER_MS,
  announceLayout,
  describeLayout,
  forgetLayouts,
  isForgotten,
  sameLayout,
  type AnnouncedLayout,
  type LayoutRole,
  type StreamLayout,
  type TargetMapping,
} from './stream-layouts';
