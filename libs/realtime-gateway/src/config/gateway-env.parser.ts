import { type Env, readBoolean, readNumber, readString, readUrl } from '@realtime-streams/common';
import { STREAM_LAYOUT_DEFAULTS } from '@realtime-streams/contracts';
import { parseJwtEnv } from '../auth/jwt-env.parser';
import type { RealtimeGatewayOptions } from '../realtime-gateway-options.interface';
import { GATEWAY_DEFAULTS as D } from './gateway-defaults';

/**
 * Gateway options from the environment; bad values throw `InvalidRealtimeConfigError` naming the variable. Hooks
 * (group methods, authorization) cannot come from the environment: merge them into the result in code.
 */
export function parseGatewayEnv(env: Env): RealtimeGatewayOptions {
  const corsOrigins = readString(env, 'REALTIME_CORS_ORIGINS');
  const bridgeSecret = readString(env, 'REALTIME_BRIDGE_SECRET');
  const useRedis = readString(env, 'REALTIME_GATEWAY_REDIS')?.toLowerCase() !== 'false';
  return {
    instanceId: readString(env, 'REALTIME_INSTANCE_ID'),
    shutdownTimeoutMs: readNumber(env, 'REALTIME_SHUTDOWN_TIMEOUT_MS', D.shutdownTimeoutMs, 100, 600_000),
    auth: {
      jwt: parseJwtEnv(env),
      closeOnExpiration: readBoolean(env, 'REALTIME_CLOSE_ON_TOKEN_EXPIRY', D.closeOnTokenExpiry),
    },
    hub: {
      path: readString(env, 'REALTIME_HUB_PATH') ?? D.hub.path,
      corsOrigins: corsOrigins === '*' ? '*' : corsOrigins ? corsOrigins.split(',').map((o) => o.trim()) : [],
      keepAliveIntervalMs: readNumber(env, 'REALTIME_KEEPALIVE_MS', D.hub.keepAliveIntervalMs, 100, 600_000),
      clientTimeoutMs: readNumber(env, 'REALTIME_CLIENT_TIMEOUT_MS', D.hub.clientTimeoutMs, 100, 3_600_000),
      maxMessageBytes: readNumber(env, 'REALTIME_MAX_MESSAGE_BYTES', D.hub.maxMessageBytes, 256, 64 * 1024 * 1024),
    },
    redis: useRedis
      ? {
          url: readUrl(env, 'REDIS_URL', STREAM_LAYOUT_DEFAULTS.url, ['redis:', 'rediss:']),
          streamKeyPrefix: readString(env, 'REALTIME_STREAM_KEY_PREFIX') ?? STREAM_LAYOUT_DEFAULTS.streamKeyPrefix,
          shards: readNumber(env, 'REALTIME_STREAM_SHARDS', STREAM_LAYOUT_DEFAULTS.shards, 1, 1024),
          blockMs: readNumber(env, 'REALTIME_CONSUMER_BLOCK_MS', D.redis.blockMs, 10, 60_000),
          readCount: readNumber(env, 'REALTIME_CONSUMER_READ_COUNT', D.redis.readCount, 1, 100_000),
          groupMaxIdleMs: readNumber(env, 'REALTIME_GROUP_MAX_IDLE_MS', D.redis.groupMaxIdleMs, 1000, 30 * 86_400_000),
        }
      : undefined,
    bridge: bridgeSecret
      ? {
          path: readString(env, 'REALTIME_BRIDGE_PATH') ?? D.bridge.path,
          secret: bridgeSecret,
          maxBodyBytes: readNumber(
            env,
            'REALTIME_BRIDGE_MAX_BODY_BYTES',
            D.bridge.maxBodyBytes,
            1024,
            1024 * 1024 * 1024,
          ),
        }
      : undefined,
    statefulReconnect: {
      enabled: readBoolean(env, 'REALTIME_STATEFUL_RECONNECT', D.statefulReconnect.enabled),
      bufferBytes: readNumber(env, 'REALTIME_RECONNECT_BUFFER_BYTES', D.statefulReconnect.bufferBytes, 1024, 1 << 30),
      windowMs: readNumber(env, 'REALTIME_RECONNECT_WINDOW_MS', D.statefulReconnect.windowMs, 100, 3_600_000),
    },
    slowClients: {
      softLimitBytes: readNumber(env, 'REALTIME_SLOW_CLIENT_SOFT_BYTES', D.slowClients.softLimitBytes, 1024, 1 << 30),
      hardLimitBytes: readNumber(env, 'REALTIME_SLOW_CLIENT_HARD_BYTES', D.slowClients.hardLimitBytes, 1024, 1 << 30),
    },
    // The publisher's variables: one setting for both sides.
    envelopes: {
      maxArgsBytes: readNumber(env, 'REALTIME_MAX_ARGS_BYTES', D.envelopes.maxArgsBytes, 1, 64 * 1024 * 1024),
      maxArgsDepth: readNumber(env, 'REALTIME_MAX_ARGS_DEPTH', D.envelopes.maxArgsDepth, 1, 10_000),
    },
    limits: {
      invocationsPerSecond: readNumber(
        env,
        'REALTIME_MAX_INVOCATIONS_PER_SECOND',
        D.limits.invocationsPerSecond,
        1,
        100_000,
      ),
      invocationBurst: readNumber(env, 'REALTIME_INVOCATION_BURST', D.limits.invocationBurst, 1, 1_000_000),
      maxRefusedInvocations: readNumber(
        env,
        'REALTIME_MAX_REFUSED_INVOCATIONS',
        D.limits.maxRefusedInvocations,
        1,
        1_000_000,
      ),
      maxGroupsPerConnection: readNumber(
        env,
        'REALTIME_MAX_GROUPS_PER_CONNECTION',
        D.limits.maxGroupsPerConnection,
        1,
        1_000_000,
      ),
      maxConnectionsPerUser: readNumber(
        env,
        'REALTIME_MAX_CONNECTIONS_PER_USER',
        D.limits.maxConnectionsPerUser,
        1,
        1_000_000,
      ),
    },
    dedup: {
      ttlMs: readNumber(env, 'REALTIME_DEDUP_TTL_MS', D.dedup.ttlMs, 1000, 86_400_000),
      maxEntries: readNumber(env, 'REALTIME_DEDUP_MAX_ENTRIES', D.dedup.maxEntries, 100, 10_000_000),
    },
  };
}
