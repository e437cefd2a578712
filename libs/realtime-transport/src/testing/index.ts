// For tests and benchmarks: doubles, fixtures, and handles on the module's internals. Not for production code.
export { FakeTransport } from './fake.transport';
export { outbound } from './outbound.fixture';
export { InProcessSinkRegistry, type InProcessSink } from '@realtime-streams/common';
export type { OutboundEnvelope } from '@realtime-streams/contracts';
export { FallbackChain, type PublishedListener, type FlushReport } from '../fallback/fallback-chain';
export { HealthProber } from '../fallback/health-prober';
export { RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
export type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
export { resolveRealtimeOptions } from '../config/resolve-options';
export type { RealtimeTransport, TransportName } from '../transports/realtime-transport.interface';
export { defineStreamAppend } from '../transports/stream-append.script';
export { HttpBridgeTransport, type HttpBridgeTransportSettings } from '../transports/http-bridge.transport';
export type {
  GaveUpReportOutcome,
  HttpBridgeLaneMetrics,
  HttpBridgeMetrics,
  LaneDropReason,
} from '../transports/http-bridge.metrics';
