import { ENVELOPE_LIMIT_DEFAULTS, STREAM_LAYOUT_DEFAULTS } from '@realtime-streams/contracts';

/** Defaults of every option; the options interface documents each one with the same values. */
export const DEFAULTS = Object.freeze({
  flags: Object.freeze({
    useRedisStreams: true,
    redisStreamsPercentage: 100,
    fallbackToHttp: true,
    dualWrite: false,
  }),
  redis: Object.freeze({
    ...STREAM_LAYOUT_DEFAULTS,
    maxLen: 100_000,
    retentionMs: 600_000,
  }),
  httpBridge: Object.freeze({
    connectionsPerInstance: 8,
    maxBodyBytes: 1024 * 1024,
    laneQueueEnvelopes: 10_000,
    laneRetryMs: 30_000,
  }),
  ...ENVELOPE_LIMIT_DEFAULTS,
  bufferCapacity: 10_000,
  maxBatchSize: 512,
  publishTimeoutMs: 1000,
  maxAttemptsPerEnvelope: 10,
  replayWindowMs: 3000,
  breaker: Object.freeze({ failureThreshold: 3, openMs: 1000 }),
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  shutdownTimeoutMs: 5000,
  typingWindowMs: 100,
  coalescerMaxKeys: 100_000,
  outbox: Object.freeze({ relayBatchSize: 500, retryMs: 1000 }),
});
