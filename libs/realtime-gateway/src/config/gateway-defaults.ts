import { ENVELOPE_LIMIT_DEFAULTS } from '@realtime-streams/contracts';

/** Defaults of every gateway option; the options interface documents each one with the same values. */
export const GATEWAY_DEFAULTS = Object.freeze({
  hub: Object.freeze({
    path: '/hubs/realtime',
    groupMethods: Object.freeze([Object.freeze({ join: 'JoinGroup', leave: 'LeaveGroup' })]),
    corsOrigins: Object.freeze([] as string[]),
    keepAliveIntervalMs: 15_000,
    clientTimeoutMs: 30_000,
    handshakeTimeoutMs: 15_000,
    maxMessageBytes: 64 * 1024,
    negotiateTtlMs: 30_000,
  }),
  redis: Object.freeze({
    url: 'redis://127.0.0.1:6379',
    streamKeyPrefix: 'realtime',
    shards: 1,
    blockMs: 5000,
    readCount: 256,
    groupMaxIdleMs: 3_600_000,
    monitorIntervalMs: 5000,
  }),
  bridge: Object.freeze({ path: '/internal/realtime/events', maxBodyBytes: 5 * 1024 * 1024 }),
  slowClients: Object.freeze({ softLimitBytes: 256 * 1024, hardLimitBytes: 1024 * 1024 }),
  // The publisher's bounds: what one accepts, the other must not refuse.
  envelopes: ENVELOPE_LIMIT_DEFAULTS,
  dedup: Object.freeze({ ttlMs: 300_000, maxEntries: 100_000 }),
  limits: Object.freeze({
    invocationsPerSecond: 20,
    invocationBurst: 40,
    maxRefusedInvocations: 100,
    maxGroupsPerConnection: 100,
    maxConnectionsPerUser: 20,
  }),
  statefulReconnect: Object.freeze({ enabled: true, bufferBytes: 100_000, windowMs: 30_000 }),
  closeOnTokenExpiry: true,
  shutdownTimeoutMs: 5000,
});
