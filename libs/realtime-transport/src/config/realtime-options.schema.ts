import {
  codeOnly,
  envelopeLimitSettings,
  integer,
  metricsSetting,
  redisConnectionSettings,
  section,
  setting,
  streamLayoutSettings,
  urlOf,
} from '@realtime-streams/common';
import { z } from 'zod';
import type { OutboxStore } from '../outbox/outbox-store.interface';

const HTTP = ['http:', 'https:'] as const;

/** The flags that decide where envelopes go; they can change at run time (SIGHUP reload, `RealtimeSettings`). */
export const routingFlagsSchema = z.object({
  useRedisStreams: setting(z.boolean().default(true), {
    env: 'REALTIME_USE_REDIS_STREAMS',
    doc: 'Send envelopes through Redis Streams. `false` is the rollback: everything goes over the HTTP bridge. Reloadable.',
  }),
  redisStreamsPercentage: setting(z.number().min(0).max(100).default(100), {
    env: 'REALTIME_REDIS_STREAMS_PERCENTAGE',
    doc: 'Share of targets (rooms, users) on Redis Streams, 0-100, by stable hash of the target. Reloadable.',
  }),
  fallbackToHttp: setting(z.boolean().default(true), {
    env: 'REALTIME_FALLBACK_TO_HTTP',
    doc: 'Carry Redis-routed envelopes over the bridge while Redis is unavailable. Reloadable.',
  }),
  dualWrite: setting(z.boolean().default(false), {
    env: 'REALTIME_DUAL_WRITE',
    doc: 'Write every envelope to both transports with the same id (the gateway drops the copy). Reloadable.',
  }),
});

const redisStreamsSchema = section(
  z.object({
    ...redisConnectionSettings,
    ...streamLayoutSettings,
    maxLen: setting(integer(1, 1_000_000_000).default(100_000), {
      env: 'REALTIME_STREAM_MAXLEN',
      doc: 'Memory guard: `XTRIM ... MAXLEN ~ n` per shard with every batch. Size it above retention x rate per shard (10 min at 100 msg/s per shard is 60,000).',
    }),
    retentionMs: setting(integer(0, 30 * 86_400_000).default(600_000), {
      env: 'REALTIME_STREAM_RETENTION_MS',
      doc: "Entries stay this long (`XADD ... MINID ~`, Redis's clock): a gateway stalled for less loses nothing. 0: length bound only.",
    }),
  }),
  { always: true },
);

const httpBridgeSchema = section(
  z.object({
    urls: setting(z.array(urlOf(HTTP)).min(1), {
      env: 'REALTIME_HTTP_BRIDGE_URL',
      doc: 'Comma-separated bridge URLs, one per gateway instance. Unset disables the bridge.',
    }),
    secret: setting(z.string().default(''), {
      env: 'REALTIME_BRIDGE_SECRET',
      doc: 'Sent as `Authorization: Bearer <secret>` to the bridge; the gateway requires the same.',
      shownDefault: '(none)',
      secret: true,
    }),
    healthUrls: setting(z.array(urlOf(HTTP)).optional(), {
      env: 'REALTIME_HTTP_BRIDGE_HEALTH_URL',
      doc: 'Health URLs probed by `GET`, same order as the bridge URLs.',
      shownDefault: 'each URL + `/health`',
    }),
    connectionsPerInstance: setting(integer(1, 1024).default(8), {
      env: 'REALTIME_HTTP_BRIDGE_CONNECTIONS',
      doc: 'Keep-alive connections per gateway instance.',
    }),
    laneQueueEnvelopes: setting(integer(1, 10_000_000).default(10_000), {
      env: 'REALTIME_HTTP_BRIDGE_LANE_QUEUE',
      doc: 'Envelopes queued per gateway instance while it is slow or down; past it the oldest are given up for it (counted), and it is told which targets: it closes those clients (reconnectable) so they re-fetch.',
    }),
    laneRetryMs: setting(integer(0, 3_600_000).default(30_000), {
      env: 'REALTIME_HTTP_BRIDGE_LANE_RETRY_MS',
      doc: 'Time an envelope an instance missed is kept for it and retried once its probe passes; then given up for it (counted), and it is told which targets: it closes those clients (reconnectable) so they re-fetch.',
    }),
  }),
  { presentWhen: ['REALTIME_HTTP_BRIDGE_URL'] },
);

const outboxSchema = z.object({
  store: codeOnly<OutboxStore>(
    (value) =>
      typeof (value as OutboxStore | undefined)?.pending === 'function' &&
      typeof (value as OutboxStore).remove === 'function',
    'an OutboxStore (pending(limit, after) and remove(ids))',
  ),
  relayBatchSize: setting(integer(1, 100_000).default(500), { doc: 'Outbox records the relay reads at once.' }),
  retryMs: setting(integer(1, 3_600_000).default(1000), { doc: 'Wait before retrying a failed store call.' }),
});

/** The transports a publisher can be set to use (see `transport`). */
export const TRANSPORT_MODES = ['redis-streams', 'http-bridge', 'in-process', 'dual'] as const;
export type TransportMode = (typeof TRANSPORT_MODES)[number];

/**
 * Every option of `RealtimeTransportModule`: types, defaults, bounds, environment variables and the configuration
 * reference (docs/configuration.md) all come from here.
 */
export const realtimeTransportSchema = z.object({
  transport: setting(z.enum(TRANSPORT_MODES).optional(), {
    env: 'REALTIME_TRANSPORT',
    doc: '`redis-streams` (the bridge, when set, is its fallback), `http-bridge` (Redis unused), `in-process` (a gateway in this process; nothing else used) or `dual` (both, every envelope to each). The routing flags stay the rollout controls within it.',
    shownDefault: '`redis-streams`, or `http-bridge` when only a bridge is set',
  }),
  ...routingFlagsSchema.shape,
  /** Redis Streams transport. Leave out to disable it (the environment always sets it). */
  redis: redisStreamsSchema.optional(),
  /** The HTTP bridge (the legacy path). Leave out to disable it. */
  httpBridge: httpBridgeSchema.optional(),
  /** The same as `transport: 'in-process'` (kept for earlier versions). */
  inProcess: z.boolean().default(false),
  ...envelopeLimitSettings,
  bufferCapacity: setting(integer(1, 10_000_000).default(10_000), {
    env: 'REALTIME_BUFFER_CAPACITY',
    doc: 'Envelopes waiting for a transport, at most (volatile ones are dropped first, outboxed ones never: past it they wait in the outbox store).',
  }),
  maxBatchSize: setting(integer(1, 100_000).default(512), {
    env: 'REALTIME_MAX_BATCH_SIZE',
    doc: 'Envelopes per write (one Redis round trip or one POST).',
  }),
  publishTimeoutMs: setting(integer(1, 600_000).default(1000), {
    env: 'REALTIME_PUBLISH_TIMEOUT_MS',
    doc: 'Time a transport has to acknowledge a batch before it counts as failed.',
  }),
  maxAttemptsPerEnvelope: setting(integer(1, 1000).default(10), {
    env: 'REALTIME_MAX_ATTEMPTS',
    doc: 'Failed publishes after which one envelope is given up (counted). Not an outboxed one: it keeps its place (its target waits behind it) and is tried again every `breaker.openMs` until a transport takes it.',
  }),
  replayWindowMs: setting(integer(0, 600_000).default(3000), {
    env: 'REALTIME_REPLAY_WINDOW_MS',
    doc: 'When Redis fails, envelopes it acknowledged this long before are sent again on the next transport; 0 turns it off.',
  }),
  breaker: z
    .object({
      failureThreshold: setting(integer(1, 1000).default(3), {
        env: 'REALTIME_BREAKER_FAILURE_THRESHOLD',
        doc: "Consecutive failures that open a transport's breaker.",
      }),
      openMs: setting(integer(1, 600_000).default(1000), {
        env: 'REALTIME_BREAKER_OPEN_MS',
        doc: 'Time an open breaker waits before a probe may close it; also how often an outboxed envelope out of attempts is tried again.',
      }),
    })
    .prefault({}),
  probeIntervalMs: setting(integer(10, 600_000).default(1000), {
    env: 'REALTIME_PROBE_INTERVAL_MS',
    doc: 'Health probe interval per transport (Redis: a write on the append path, so a Redis that refuses writes counts as down).',
  }),
  probeTimeoutMs: setting(integer(1, 600_000).default(500), {
    env: 'REALTIME_PROBE_TIMEOUT_MS',
    doc: 'Time a probe may take.',
  }),
  shutdownTimeoutMs: setting(integer(0, 600_000).default(5000), {
    env: 'REALTIME_SHUTDOWN_TIMEOUT_MS',
    doc: 'Time shutdown may take: the publisher flushes waiting envelopes (the gateway has its own bound, same variable).',
  }),
  reloadEnvFile: setting(z.string().optional(), {
    env: 'REALTIME_ENV_FILE',
    doc: 'Env file re-read on `SIGHUP` for new routing flags. Unset: no SIGHUP handler (the reference service sets `.env`).',
  }),
  coalesceWindowMs: setting(integer(1, 60_000).default(100), {
    env: ['REALTIME_COALESCE_WINDOW_MS', 'REALTIME_TYPING_WINDOW_MS'],
    doc: 'Default coalescing window of `@RealtimeEvent({ coalesce })` events (typing indicators and the like).',
  }),
  coalesceRefreshMs: setting(integer(0, 600_000).default(1000), {
    env: 'REALTIME_COALESCE_REFRESH_MS',
    doc: 'Within this long of the last send, an unchanged coalesced state (still "typing") is not sent again; after it, the next event sends it again, so receivers that hide "typing" after a few seconds never do while keys keep coming. 0: only changes go out.',
  }),
  coalescerMaxKeys: setting(integer(1, 10_000_000).default(100_000), {
    env: 'REALTIME_COALESCER_MAX_KEYS',
    doc: 'Coalescing keys with an open window, at most; past it, events go out uncoalesced.',
  }),
  warnUndecoratedEvents: setting(z.boolean().default(true), {
    env: 'REALTIME_WARN_UNDECORATED_EVENTS',
    doc: 'Warn once per class when an event without `@RealtimeEvent` is published on the EventBus (no client gets it). `false` for an application whose bus carries many events not meant for clients; `RealtimePublisher.publish()` of one always warns.',
  }),
  /** Transactional outbox for durable accept (docs/durable-accept.md). */
  outbox: outboxSchema.optional(),
  /** Metrics registry: prom-client's default one when prom-client is installed; `false` turns metrics off. */
  metrics: metricsSetting,
});
