/** Reflect metadata key of `@RealtimeEvent` options on an event class. */
export const REALTIME_EVENT_METADATA = 'realtime:event';
/** Injection token of the resolved options (`ResolvedRealtimeTransportOptions`). */
export const RESOLVED_REALTIME_OPTIONS = Symbol('RESOLVED_REALTIME_OPTIONS');
/** Injection token of the ordered list of configured transports. */
export const REALTIME_TRANSPORTS = Symbol('REALTIME_TRANSPORTS');
