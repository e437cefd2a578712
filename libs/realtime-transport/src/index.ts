export { RealtimeTransportModule } from './realtime-transport.module';
export {
  InjectRealtimeOptions,
  REALTIME_TRANSPORT_OPTIONS,
  REALTIME_TRANSPORT_OPTIONS_TYPE,
  REALTIME_TRANSPORT_ASYNC_OPTIONS_TYPE,
} from './realtime-transport.module-definition';
export type {
  RealtimeTransportOptions,
  ResolvedRealtimeTransportOptions,
  RealtimeRoutingFlags,
  RedisStreamsOptions,
  HttpBridgeOptions,
  CircuitBreakerOptions,
} from './realtime-transport-options.interface';
export { RESOLVED_REALTIME_OPTIONS } from './realtime-transport.constants';

export { realtimeConfig, type RealtimeConfig } from './config/realtime.config';
export { parseRealtimeEnv, parseRoutingFlags } from './config/realtime-env.parser';
export { resolveRealtimeOptions } from './config/resolve-options';
export { RealtimeSettings } from './config/realtime-settings';
export { EnvFileReloader } from './config/env-file-reloader';

export { RealtimeEvent, type RealtimeEventOptions, type CoalesceOptions } from './decorators/realtime-event.decorator';
export { toGroup, toUser, toAll, targetKeyOf } from './envelope/targets';
export type { Envelope, OutboundEnvelope, RealtimeTarget } from './envelope/envelope.interface';
export { EnvelopeValidator, type EnvelopeValidation } from './envelope/envelope.validator';
export { exceedsJsonDepth } from './envelope/json-depth';
export { epochMs } from './envelope/envelope.mapper';

export { RealtimePublisher } from './pipeline/realtime.publisher';
export { PreparedEnvelope } from './outbox/prepared-envelope';
export type {
  OutboxStore,
  OutboxRecord,
  StoredOutboxRecord,
  OutboxCursor,
  OutboxOptions,
} from './outbox/outbox-store.interface';
export type { OutboxDeferReason } from './outbox/outbox.metrics';
export type { OutboxRelay } from './outbox/outbox-relay';
export { OutboxNotConfiguredError } from './outbox/outbox-not-configured.error';
export { NotDurableEventError } from './outbox/not-durable-event.error';
export { FallbackChain, type PublishedListener, type FlushReport } from './fallback/fallback-chain';
export type { BreakerState } from './fallback/circuit-breaker';
export type { DropReason } from './fallback/pending-buffer';

export type { RealtimeTransport, TransportName } from './transports/realtime-transport.interface';
export { InProcessSinkRegistry, type InProcessSink } from './transports/in-process-sink.registry';
export { StreamKeys, streamKey } from './transports/stream-keys';
export { sequenceKeyOf } from './transports/stream-append.script';
export { stableHash, shardOf, percentagePoint } from './routing/stable-hash';

export { TransportChainHealthIndicator } from './health/transport-chain.health';
export { RedisHealthIndicator } from './health/redis.health';
export { TRANSPORT_METRIC } from './metrics/realtime-transport.metrics';

export { InvalidEnvelopeError } from './errors/invalid-envelope.error';
export { EnvelopeTooLargeError } from './errors/envelope-too-large.error';
export { InvalidRealtimeConfigError } from './errors/invalid-realtime-config.error';
export { TransportPublishError } from './errors/transport-publish.error';
export { TransportUnavailableError } from './errors/transport-unavailable.error';

// Environment parsing helpers, shared with the gateway's configuration.
export { type Env, readBoolean, readNumber, readString, readUrl, readUrls, checkUrl } from './config/env-readers';
export { DEFAULTS as TRANSPORT_DEFAULTS } from './config/realtime-defaults';
export { errorMessage } from './util/error-message';
export { withTimeout, TimeoutError } from './util/with-timeout';
export { createFailFastRedis, closeRedis } from './redis/fail-fast-redis';
export { TransportDisconnectedError } from './errors/transport-disconnected.error';
