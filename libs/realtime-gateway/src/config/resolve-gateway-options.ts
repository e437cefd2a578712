import { hostname } from 'node:os';
import { checkUrl, InvalidRealtimeConfigError } from '@realtime-streams/common';
import { JwtVerifier } from '../auth/jwt.verifier';
import type { RealtimeGatewayOptions, ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { GATEWAY_DEFAULTS as D } from './gateway-defaults';

/** What an invocation frame adds to its args: `{"type":1,"target":<method, at most 128>,"arguments":...}` + 0x1E. */
const FRAME_OVERHEAD_BYTES = 256;

/** Applies defaults and checks the options; errors name the option. */
export function resolveGatewayOptions(options: RealtimeGatewayOptions): ResolvedGatewayOptions {
  const hub = options.hub ?? {};
  const limits = options.limits ?? {};
  const jwt = options.auth?.jwt ?? (options.auth?.jwtSecret ? { secret: options.auth.jwtSecret } : undefined);
  const verifier = options.auth?.verifier ?? (jwt ? new JwtVerifier(jwt) : undefined);
  if (!verifier) throw new InvalidRealtimeConfigError('auth', '(none)', 'a verifier, jwt settings or a jwtSecret');
  const path = normalizePath('hub.path', hub.path ?? D.hub.path);
  const slowClients = {
    softLimitBytes: positive(
      'slowClients.softLimitBytes',
      options.slowClients?.softLimitBytes ?? D.slowClients.softLimitBytes,
    ),
    hardLimitBytes: positive(
      'slowClients.hardLimitBytes',
      options.slowClients?.hardLimitBytes ?? D.slowClients.hardLimitBytes,
    ),
  };
  if (slowClients.hardLimitBytes < slowClients.softLimitBytes) {
    throw new InvalidRealtimeConfigError('slowClients.hardLimitBytes', slowClients.hardLimitBytes, '>= softLimitBytes');
  }
  const envelopes = {
    maxArgsBytes: positive('envelopes.maxArgsBytes', options.envelopes?.maxArgsBytes ?? D.envelopes.maxArgsBytes),
    maxArgsDepth: positive('envelopes.maxArgsDepth', options.envelopes?.maxArgsDepth ?? D.envelopes.maxArgsDepth),
  };
  // An envelope the hard bound cannot hold would make every client that has not yet read it look slow.
  if (envelopes.maxArgsBytes + FRAME_OVERHEAD_BYTES > slowClients.hardLimitBytes) {
    throw new InvalidRealtimeConfigError(
      'envelopes.maxArgsBytes (REALTIME_MAX_ARGS_BYTES)',
      envelopes.maxArgsBytes,
      `at most slowClients.hardLimitBytes (REALTIME_SLOW_CLIENT_HARD_BYTES, ${slowClients.hardLimitBytes}) minus ` +
        `${FRAME_OVERHEAD_BYTES} bytes of frame, so one largest envelope fits under the hard bound; ` +
        'lower the envelope cap or raise the hard bound',
    );
  }
  const bridge = options.bridge && {
    path: normalizePath('bridge.path', options.bridge.path ?? D.bridge.path),
    secret: options.bridge.secret,
    maxBodyBytes: positive('bridge.maxBodyBytes', options.bridge.maxBodyBytes ?? D.bridge.maxBodyBytes),
  };
  if (bridge && !bridge.secret)
    throw new InvalidRealtimeConfigError('bridge.secret', bridge.secret, 'a non-empty secret');
  const redis = options.redis && {
    url: checkUrl('redis.url', options.redis.url, ['redis:', 'rediss:']),
    streamKeyPrefix: options.redis.streamKeyPrefix ?? D.redis.streamKeyPrefix,
    shards: positive('redis.shards', options.redis.shards ?? D.redis.shards),
    blockMs: positive('redis.blockMs', options.redis.blockMs ?? D.redis.blockMs),
    readCount: positive('redis.readCount', options.redis.readCount ?? D.redis.readCount),
    groupMaxIdleMs: positive('redis.groupMaxIdleMs', options.redis.groupMaxIdleMs ?? D.redis.groupMaxIdleMs),
    monitorIntervalMs: positive(
      'redis.monitorIntervalMs',
      options.redis.monitorIntervalMs ?? D.redis.monitorIntervalMs,
    ),
  };
  return {
    instanceId: options.instanceId ?? `${hostname()}-${process.pid}`,
    hub: {
      path,
      groupMethods: hub.groupMethods ?? D.hub.groupMethods.map((m) => ({ ...m })),
      authorizeGroup: hub.authorizeGroup,
      methods: hub.methods,
      corsOrigins: hub.corsOrigins ?? [...D.hub.corsOrigins],
      keepAliveIntervalMs: positive('hub.keepAliveIntervalMs', hub.keepAliveIntervalMs ?? D.hub.keepAliveIntervalMs),
      clientTimeoutMs: positive('hub.clientTimeoutMs', hub.clientTimeoutMs ?? D.hub.clientTimeoutMs),
      handshakeTimeoutMs: positive('hub.handshakeTimeoutMs', hub.handshakeTimeoutMs ?? D.hub.handshakeTimeoutMs),
      maxMessageBytes: positive('hub.maxMessageBytes', hub.maxMessageBytes ?? D.hub.maxMessageBytes),
      negotiateTtlMs: positive('hub.negotiateTtlMs', hub.negotiateTtlMs ?? D.hub.negotiateTtlMs),
    },
    verifier,
    redis,
    bridge,
    slowClients,
    envelopes,
    dedup: {
      ttlMs: positive('dedup.ttlMs', options.dedup?.ttlMs ?? D.dedup.ttlMs),
      maxEntries: positive('dedup.maxEntries', options.dedup?.maxEntries ?? D.dedup.maxEntries),
    },
    limits: {
      invocationsPerSecond: positive(
        'limits.invocationsPerSecond',
        limits.invocationsPerSecond ?? D.limits.invocationsPerSecond,
      ),
      invocationBurst: positive('limits.invocationBurst', limits.invocationBurst ?? D.limits.invocationBurst),
      maxRefusedInvocations: positive(
        'limits.maxRefusedInvocations',
        limits.maxRefusedInvocations ?? D.limits.maxRefusedInvocations,
      ),
      maxGroupsPerConnection: positive(
        'limits.maxGroupsPerConnection',
        limits.maxGroupsPerConnection ?? D.limits.maxGroupsPerConnection,
      ),
      maxConnectionsPerUser: positive(
        'limits.maxConnectionsPerUser',
        limits.maxConnectionsPerUser ?? D.limits.maxConnectionsPerUser,
      ),
    },
    statefulReconnect: {
      enabled: options.statefulReconnect?.enabled ?? D.statefulReconnect.enabled,
      bufferBytes: positive(
        'statefulReconnect.bufferBytes',
        options.statefulReconnect?.bufferBytes ?? D.statefulReconnect.bufferBytes,
      ),
      windowMs: positive(
        'statefulReconnect.windowMs',
        options.statefulReconnect?.windowMs ?? D.statefulReconnect.windowMs,
      ),
    },
    closeOnTokenExpiry: options.auth?.closeOnExpiration ?? D.closeOnTokenExpiry,
    shutdownTimeoutMs: positive('shutdownTimeoutMs', options.shutdownTimeoutMs ?? D.shutdownTimeoutMs),
    inProcess: options.inProcess ?? true,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidRealtimeConfigError(name, value, 'a positive integer');
  return value;
}

function normalizePath(name: string, path: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path)) throw new InvalidRealtimeConfigError(name, path, 'a path starting with /');
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
