import type { OutboxOptions } from './outbox/outbox-store.interface';
import type { TransportName } from './transports/realtime-transport.interface';

/** Flags that decide where envelopes go. They can change at run time (SIGHUP reload). */
export interface RealtimeRoutingFlags {
  /**
   * Send envelopes through Redis Streams. `false` is the rollback switch: everything goes over the HTTP bridge.
   * @default true
   */
  useRedisStreams: boolean;
  /**
   * Share of targets (rooms, users) routed to Redis Streams, 0-100. The share is decided by a stable hash of the
   * target, so one room never splits across transports.
   * @default 100
   */
  redisStreamsPercentage: number;
  /**
   * When Redis Streams is unavailable, carry its envelopes over the HTTP bridge instead of buffering them.
   * @default true
   */
  fallbackToHttp: boolean;
  /**
   * Write every envelope to both Redis Streams and the HTTP bridge, with the same id (the gateway drops the copy).
   * @default false
   */
  dualWrite: boolean;
}

export interface RedisStreamsOptions {
  /** Redis connection URL. @default 'redis://127.0.0.1:6379' */
  url: string;
  /** Prefix of stream keys; shard `n` is stored at `<prefix>:{n}`. @default 'realtime' */
  streamKeyPrefix?: string;
  /** Number of stream shards. A target always maps to the same shard, so one room's events stay in order. @default 1 */
  shards?: number;
  /**
   * Memory guard: approximate maximum length of each stream (`XTRIM ... MAXLEN ~ n` with every batch). Retention by
   * time is the normal bound; an entry trimmed by this one before every gateway read it is a gap the gateways
   * detect and report.
   * @default 100000
   */
  maxLen?: number;
  /**
   * How long entries stay in the stream (`XADD ... MINID ~ <now - retention>`, Redis's clock): a gateway stalled for
   * less than this loses nothing. 0 keeps entries until `maxLen` trims them.
   * @default 600000 (10 min)
   */
  retentionMs?: number;
}

export interface HttpBridgeOptions {
  /** One URL per gateway instance; every batch goes to each of them. */
  urls: string[];
  /** Bearer secret sent in `Authorization`. */
  secret?: string;
  /**
   * Health URL per instance, same order as `urls`.
   * @default each URL with `/health` appended
   */
  healthUrls?: string[];
  /** Keep-alive connections per instance. @default 8 */
  connectionsPerInstance?: number;
  /**
   * Envelopes queued per instance while it is slow or down (each instance has a lane of its own); past it the
   * oldest are dropped for that instance and counted in `realtime_bridge_lane_dropped_total`.
   * @default 10000
   */
  laneQueueEnvelopes?: number;
  /**
   * Time an envelope an instance missed (failed POST, timeout, instance marked down) is kept for it and retried
   * once its health probe passes; past it the envelope is dropped for that instance and counted.
   * @default 30000
   */
  laneRetryMs?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures (publishes or probes) that open the breaker. @default 3 */
  failureThreshold?: number;
  /** Time an open breaker waits before a probe may close it again. @default 1000 */
  openMs?: number;
}

export interface RealtimeTransportOptions extends Partial<RealtimeRoutingFlags> {
  /** Redis Streams transport. Leave out to disable it. */
  redis?: RedisStreamsOptions;
  /** HTTP bridge transport (the legacy path). Leave out to disable it. */
  httpBridge?: HttpBridgeOptions;
  /**
   * Deliver every envelope to the sink registered in this process (single node, tests) instead of
   * Redis Streams and the HTTP bridge.
   * @default false
   */
  inProcess?: boolean;
  /** Largest serialized size of an event's `args`, in bytes (UTF-8). @default 65536 */
  maxArgsBytes?: number;
  /**
   * Deepest nesting of an event's `args` (the args array is level 1, `[{ a: [1] }]` is 3); deeper or circular args
   * are refused with `InvalidEnvelopeError` before anything is serialized. Gateways apply the same bound.
   * @default 32
   */
  maxArgsDepth?: number;
  /**
   * Envelopes waiting for a transport, at most. When full, volatile ones are dropped first, then the oldest; those
   * with an outbox record are never dropped (they wait in the store).
   * @default 10000
   */
  bufferCapacity?: number;
  /** Envelopes sent in one write (one Redis pipeline or one HTTP request). @default 512 */
  maxBatchSize?: number;
  /** Time a transport has to acknowledge one batch before it counts as failed. @default 1000 */
  publishTimeoutMs?: number;
  /** Failures after which one envelope is given up (counted as dropped). @default 10 */
  maxAttemptsPerEnvelope?: number;
  /**
   * When Redis Streams fails, envelopes it acknowledged this long before the failure are sent again on the next
   * transport (Redis may have died before the gateways read them; the gateways drop copies). 0 turns it off.
   * @default 3000
   */
  replayWindowMs?: number;
  breaker?: CircuitBreakerOptions;
  /** Interval of the health probe of each transport. @default 1000 */
  probeIntervalMs?: number;
  /** Time a health probe may take. @default 500 */
  probeTimeoutMs?: number;
  /** Time graceful shutdown spends flushing waiting envelopes. @default 5000 */
  shutdownTimeoutMs?: number;
  /**
   * Env file re-read on SIGHUP to apply new routing flags without a restart. `undefined` disables the reload.
   * @default undefined
   */
  reloadEnvFile?: string;
  /** Default coalescing window of `@RealtimeEvent({ coalesce })` events, in milliseconds. @default 100 */
  typingWindowMs?: number;
  /** Coalescing keys with an open window, at most; past it, events go out uncoalesced. @default 100000 */
  coalescerMaxKeys?: number;
  /**
   * Transactional outbox for durable accept: the application's store (see `OutboxStore` and the README, "Durable
   * accept"). With it, `RealtimePublisher.prepare/publishPrepared/publishDurably` publish events whose record the
   * application committed with its domain change; those are never dropped, and the relay republishes at start
   * what a previous process left. Without it, nothing changes: envelopes live in memory only.
   * @default undefined (no outbox)
   */
  outbox?: OutboxOptions;
}

/** The options with every default applied; what the providers use. */
export interface ResolvedRealtimeTransportOptions {
  flags: RealtimeRoutingFlags;
  redis?: Required<RedisStreamsOptions>;
  httpBridge?: Required<HttpBridgeOptions>;
  inProcess: boolean;
  maxArgsBytes: number;
  maxArgsDepth: number;
  bufferCapacity: number;
  maxBatchSize: number;
  publishTimeoutMs: number;
  maxAttemptsPerEnvelope: number;
  replayWindowMs: number;
  breaker: Required<CircuitBreakerOptions>;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  shutdownTimeoutMs: number;
  reloadEnvFile?: string;
  typingWindowMs: number;
  coalescerMaxKeys: number;
  outbox?: Required<OutboxOptions>;
  /** Transports that are configured, in fallback order. */
  transports: TransportName[];
}
