// For tests and benchmarks: handles on the module's internals. Not for production code.
export { RESOLVED_GATEWAY_OPTIONS } from '../realtime-gateway.constants';
export type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
export { resolveGatewayOptions } from '../config/resolve-gateway-options';
export { ConnectionRegistry } from '../hub/connection-registry';
export { DeliveryService } from '../delivery/delivery.service';
export { StreamConsumer, MISSED_ENTRIES_REASON } from '../stream/stream-consumer';
export { StreamMonitor } from '../stream/stream-monitor';
export { HEALTH_GRACE_MS } from '../stream/consumer-status';
export { InboundEnvelopeReader } from '../delivery/inbound-envelope';
export { rebuildSession } from '../hub/session/session-replay';
export type { SessionRecord } from '../hub/session/session-record';
export { SessionStore } from '../hub/session/session-store';
export { HubServer } from '../hub/hub.server';
export { ShardInterest } from '../stream/shard-interest';
