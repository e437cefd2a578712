/** Defaults of every option; the options interface documents each one with the same values. */
export const DEFAULTS = Object.freeze({
  flags: Object.freeze({
    useRedisStreams: true,
    redisStreamsPercentage: 100,
    fallbackToHttp: true,
    dualWrite: false,
  }),
  redis: Object.freeze({
    url: 'redis://127.0.0.1:6379',
    streamKeyPrefix: 'realtime',
    shards: 1,
    maxLen: 100_000,
    retentionMs: 600_000,
  }),
  httpBridge: Object.freeze({
    connectionsPerInstance: 8,
    maxBodyBytes: 1024 * 1024,
    laneQueueEnvelopes: 10_000,
    laneRetryMs: 30_000,
  }),
  maxArgsBytes: 64 * 1024,
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
});
