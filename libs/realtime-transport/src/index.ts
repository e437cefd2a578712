// What an application uses. Test doubles and inspection handles: `@realtime-streams/transport/testing`.
export { RealtimeTransportModule } from './realtime-transport.module';
export {
  InjectRealtimeOptions,
  REALTIME_TRANSPORT_OPTIONS,
  REALTIME_TRANSPORT_OPTIONS_TYPE,
  REALTIME_TRANSPORT_ASYNC_OPTIONS_TYPE,
} from './realtime-transport.module-definition';
export type {
  RealtimeTransportOptions,
  RealtimeRoutingFlags,
  RedisStreamsOptions,
  HttpBridgeOptions,
  CircuitBreakerOptions,
} from './realtime-transport-options.interface';

export { realtimeConfig, type RealtimeConfig } from './config/realtime.config';
export { parseRealtimeEnv } from './config/realtime-env.parser';
export { RealtimeSettings } from './config/realtime-settings';
export { EnvFileReloader } from './config/env-file-reloader';

export { RealtimeEvent, type RealtimeEventOptions, type CoalesceOptions } from './decorators/realtime-event.decorator';
export { toGroup, toUser, toAll, type Envelope, type RealtimeTarget } from '@realtime-streams/contracts';

export { RealtimePublisher } from './pipeline/realtime.publisher';
// Time-ordered UUIDv7 ids, as envelopes carry: for an application's own rows too (sorted inserts, cursors).
export { EventIdGenerator } from './envelope/event-id.generator';
export { PreparedEnvelope } from './outbox/prepared-envelope';
export type {
  OutboxStore,
  OutboxRecord,
  StoredOutboxRecord,
  OutboxCursor,
  OutboxOptions,
} from './outbox/outbox-store.interface';
export { OutboxNotConfiguredError } from './outbox/outbox-not-configured.error';
export { NotDurableEventError } from './outbox/not-durable-event.error';

export { TransportChainHealthIndicator } from './health/transport-chain.health';
export { RedisHealthIndicator } from './health/redis.health';
export { TRANSPORT_METRIC } from './metrics/realtime-transport.metrics';

export { InvalidEnvelopeError } from './errors/invalid-envelope.error';
export { EnvelopeTooLargeError } from './errors/envelope-too-large.error';
export { InvalidRealtimeConfigError } from '@realtime-streams/common';
export { TransportPublishError } from './errors/transport-publish.error';
export { TransportUnavailableError } from './errors/transport-unavailable.error';
export { TransportDisconnectedError } from './errors/transport-disconnected.error';
export { RedisWritesRefusedError } from './errors/redis-writes-refused.error';
export {
  realtimeTransportSchema,
  routingFlagsSchema,
  TRANSPORT_MODES,
  type TransportMode,
} from './config/realtime-options.schema';
