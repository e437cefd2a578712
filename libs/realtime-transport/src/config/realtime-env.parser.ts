import type { RealtimeRoutingFlags, RealtimeTransportOptions } from '../realtime-transport-options.interface';
import { type Env, readBoolean, readNumber, readString, readUrl, readUrls } from '@realtime-streams/common';
import { DEFAULTS } from './realtime-defaults';

const HTTP = ['http:', 'https:'] as const;
const REDIS = ['redis:', 'rediss:'] as const;

/** The routing flags from the environment; what a SIGHUP reload re-reads. */
export function parseRoutingFlags(env: Env): RealtimeRoutingFlags {
  return {
    useRedisStreams: readBoolean(env, 'REALTIME_USE_REDIS_STREAMS', DEFAULTS.flags.useRedisStreams),
    redisStreamsPercentage: readNumber(
      env,
      'REALTIME_REDIS_STREAMS_PERCENTAGE',
      DEFAULTS.flags.redisStreamsPercentage,
      0,
      100,
      false,
    ),
    fallbackToHttp: readBoolean(env, 'REALTIME_FALLBACK_TO_HTTP', DEFAULTS.flags.fallbackToHttp),
    dualWrite: readBoolean(env, 'REALTIME_DUAL_WRITE', DEFAULTS.flags.dualWrite),
  };
}

/**
 * Module options from the environment. Every value is checked here, so a bad one stops start-up with a message that
 * names the variable (`InvalidRealtimeConfigError`). The README's configuration table lists these variables.
 */
export function parseRealtimeEnv(env: Env): RealtimeTransportOptions {
  const bridgeUrls = readUrls(env, 'REALTIME_HTTP_BRIDGE_URL', HTTP);
  const healthUrls = readUrls(env, 'REALTIME_HTTP_BRIDGE_HEALTH_URL', HTTP);
  return {
    ...parseRoutingFlags(env),
    redis: {
      url: readUrl(env, 'REDIS_URL', DEFAULTS.redis.url, REDIS),
      streamKeyPrefix: readString(env, 'REALTIME_STREAM_KEY_PREFIX') ?? DEFAULTS.redis.streamKeyPrefix,
      shards: readNumber(env, 'REALTIME_STREAM_SHARDS', DEFAULTS.redis.shards, 1, 1024),
      maxLen: readNumber(env, 'REALTIME_STREAM_MAXLEN', DEFAULTS.redis.maxLen, 1, 1_000_000_000),
      retentionMs: readNumber(env, 'REALTIME_STREAM_RETENTION_MS', DEFAULTS.redis.retentionMs, 0, 30 * 86_400_000),
    },
    httpBridge:
      bridgeUrls && bridgeUrls.length > 0
        ? {
            urls: bridgeUrls,
            secret: readString(env, 'REALTIME_BRIDGE_SECRET'),
            healthUrls,
            connectionsPerInstance: readNumber(
              env,
              'REALTIME_HTTP_BRIDGE_CONNECTIONS',
              DEFAULTS.httpBridge.connectionsPerInstance,
              1,
              1024,
            ),
            laneQueueEnvelopes: readNumber(
              env,
              'REALTIME_HTTP_BRIDGE_LANE_QUEUE',
              DEFAULTS.httpBridge.laneQueueEnvelopes,
              1,
              10_000_000,
            ),
            laneRetryMs: readNumber(
              env,
              'REALTIME_HTTP_BRIDGE_LANE_RETRY_MS',
              DEFAULTS.httpBridge.laneRetryMs,
              0,
              3_600_000,
            ),
          }
        : undefined,
    maxArgsBytes: readNumber(env, 'REALTIME_MAX_ARGS_BYTES', DEFAULTS.maxArgsBytes, 1, 64 * 1024 * 1024),
    maxArgsDepth: readNumber(env, 'REALTIME_MAX_ARGS_DEPTH', DEFAULTS.maxArgsDepth, 1, 10_000),
    bufferCapacity: readNumber(env, 'REALTIME_BUFFER_CAPACITY', DEFAULTS.bufferCapacity, 1, 10_000_000),
    maxBatchSize: readNumber(env, 'REALTIME_MAX_BATCH_SIZE', DEFAULTS.maxBatchSize, 1, 100_000),
    publishTimeoutMs: readNumber(env, 'REALTIME_PUBLISH_TIMEOUT_MS', DEFAULTS.publishTimeoutMs, 1, 600_000),
    maxAttemptsPerEnvelope: readNumber(env, 'REALTIME_MAX_ATTEMPTS', DEFAULTS.maxAttemptsPerEnvelope, 1, 1000),
    replayWindowMs: readNumber(env, 'REALTIME_REPLAY_WINDOW_MS', DEFAULTS.replayWindowMs, 0, 600_000),
    breaker: {
      failureThreshold: readNumber(
        env,
        'REALTIME_BREAKER_FAILURE_THRESHOLD',
        DEFAULTS.breaker.failureThreshold,
        1,
        1000,
      ),
      openMs: readNumber(env, 'REALTIME_BREAKER_OPEN_MS', DEFAULTS.breaker.openMs, 1, 600_000),
    },
    probeIntervalMs: readNumber(env, 'REALTIME_PROBE_INTERVAL_MS', DEFAULTS.probeIntervalMs, 10, 600_000),
    probeTimeoutMs: readNumber(env, 'REALTIME_PROBE_TIMEOUT_MS', DEFAULTS.probeTimeoutMs, 1, 600_000),
    shutdownTimeoutMs: readNumber(env, 'REALTIME_SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, 0, 600_000),
    typingWindowMs: readNumber(env, 'REALTIME_TYPING_WINDOW_MS', DEFAULTS.typingWindowMs, 1, 60_000),
    coalescerMaxKeys: readNumber(env, 'REALTIME_COALESCER_MAX_KEYS', DEFAULTS.coalescerMaxKeys, 1, 10_000_000),
    reloadEnvFile: readString(env, 'REALTIME_ENV_FILE') ?? '.env',
  };
}
