// Helpers the transport and the gateway share. Not an application API: no compatibility promise between versions.
export { InvalidRealtimeConfigError } from './invalid-realtime-config.error';
export { errorMessage } from './error-message';
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
export type { Env } from './env';
export * from './config';
export { healthCheck, type RealtimeHealthResult } from './health-check';
export { MetricFactory, type RealtimeMetricsOption } from './metrics/metric-factory';
