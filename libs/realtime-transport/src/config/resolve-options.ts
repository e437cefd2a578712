import { checkUrl, InvalidRealtimeConfigError } from '@realtime-streams/common';
import type {
  RealtimeRoutingFlags,
  RealtimeTransportOptions,
  ResolvedRealtimeTransportOptions,
} from '../realtime-transport-options.interface';
import type { OutboxOptions, OutboxStore } from '../outbox/outbox-store.interface';
import type { TransportName } from '../transports/realtime-transport.interface';
import { DEFAULTS } from './realtime-defaults';

/**
 * Applies defaults and checks the options given to `forRoot`/`forRootAsync` (from `realtimeConfig` or by hand).
 * Errors name the option, so a bad value fails start-up with a message that says what to fix.
 */
export function resolveRealtimeOptions(options: RealtimeTransportOptions): ResolvedRealtimeTransportOptions {
  const flags = checkRoutingFlags({
    useRedisStreams: options.useRedisStreams ?? DEFAULTS.flags.useRedisStreams,
    redisStreamsPercentage: options.redisStreamsPercentage ?? DEFAULTS.flags.redisStreamsPercentage,
    fallbackToHttp: options.fallbackToHttp ?? DEFAULTS.flags.fallbackToHttp,
    dualWrite: options.dualWrite ?? DEFAULTS.flags.dualWrite,
  });
  const redis = options.redis && {
    url: checkUrl('redis.url', options.redis.url, ['redis:', 'rediss:']),
    streamKeyPrefix: options.redis.streamKeyPrefix ?? DEFAULTS.redis.streamKeyPrefix,
    shards: positiveInteger('redis.shards', options.redis.shards ?? DEFAULTS.redis.shards),
    maxLen: positiveInteger('redis.maxLen', options.redis.maxLen ?? DEFAULTS.redis.maxLen),
    retentionMs: nonNegativeInteger('redis.retentionMs', options.redis.retentionMs ?? DEFAULTS.redis.retentionMs),
  };
  const bridge = options.httpBridge;
  if (bridge && bridge.urls.length === 0) {
    throw new InvalidRealtimeConfigError('httpBridge.urls', bridge.urls, 'at least one URL');
  }
  const httpBridge = bridge && {
    urls: bridge.urls.map((url) => checkUrl('httpBridge.urls', url, ['http:', 'https:'])),
    secret: bridge.secret ?? '',
    healthUrls: healthUrls(bridge.urls, bridge.healthUrls),
    connectionsPerInstance: positiveInteger(
      'httpBridge.connectionsPerInstance',
      bridge.connectionsPerInstance ?? DEFAULTS.httpBridge.connectionsPerInstance,
    ),
    laneQueueEnvelopes: positiveInteger(
      'httpBridge.laneQueueEnvelopes',
      bridge.laneQueueEnvelopes ?? DEFAULTS.httpBridge.laneQueueEnvelopes,
    ),
    laneRetryMs: nonNegativeInteger('httpBridge.laneRetryMs', bridge.laneRetryMs ?? DEFAULTS.httpBridge.laneRetryMs),
  };
  const inProcess = options.inProcess ?? false;
  const transports: TransportName[] = inProcess
    ? ['in-process']
    : [...(redis ? (['redis-streams'] as const) : []), ...(httpBridge ? (['http-bridge'] as const) : [])];
  if (transports.length === 0) {
    throw new InvalidRealtimeConfigError('redis / httpBridge / inProcess', undefined, 'at least one transport');
  }
  const maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize ?? DEFAULTS.maxBatchSize);
  const bufferCapacity = positiveInteger('bufferCapacity', options.bufferCapacity ?? DEFAULTS.bufferCapacity);
  return {
    flags,
    redis,
    httpBridge,
    inProcess,
    maxArgsBytes: positiveInteger('maxArgsBytes', options.maxArgsBytes ?? DEFAULTS.maxArgsBytes),
    maxArgsDepth: positiveInteger('maxArgsDepth', options.maxArgsDepth ?? DEFAULTS.maxArgsDepth),
    bufferCapacity,
    maxBatchSize,
    publishTimeoutMs: positiveInteger('publishTimeoutMs', options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs),
    maxAttemptsPerEnvelope: positiveInteger(
      'maxAttemptsPerEnvelope',
      options.maxAttemptsPerEnvelope ?? DEFAULTS.maxAttemptsPerEnvelope,
    ),
    replayWindowMs: nonNegativeInteger('replayWindowMs', options.replayWindowMs ?? DEFAULTS.replayWindowMs),
    breaker: {
      failureThreshold: positiveInteger(
        'breaker.failureThreshold',
        options.breaker?.failureThreshold ?? DEFAULTS.breaker.failureThreshold,
      ),
      openMs: positiveInteger('breaker.openMs', options.breaker?.openMs ?? DEFAULTS.breaker.openMs),
    },
    probeIntervalMs: positiveInteger('probeIntervalMs', options.probeIntervalMs ?? DEFAULTS.probeIntervalMs),
    probeTimeoutMs: positiveInteger('probeTimeoutMs', options.probeTimeoutMs ?? DEFAULTS.probeTimeoutMs),
    shutdownTimeoutMs: nonNegativeInteger('shutdownTimeoutMs', options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs),
    reloadEnvFile: options.reloadEnvFile,
    typingWindowMs: positiveInteger('typingWindowMs', options.typingWindowMs ?? DEFAULTS.typingWindowMs),
    coalescerMaxKeys: positiveInteger('coalescerMaxKeys', options.coalescerMaxKeys ?? DEFAULTS.coalescerMaxKeys),
    outbox: outboxOptions(options.outbox),
    transports,
  };
}

function outboxOptions(outbox: OutboxOptions | undefined): Required<OutboxOptions> | undefined {
  if (outbox === undefined) return undefined;
  const store = outbox.store as Partial<OutboxStore> | undefined;
  if (typeof store?.pending !== 'function' || typeof store.remove !== 'function') {
    throw new InvalidRealtimeConfigError(
      'outbox.store',
      typeof store,
      'an OutboxStore (pending(limit, after) and remove(ids))',
    );
  }
  return {
    store: outbox.store,
    relayBatchSize: positiveInteger('outbox.relayBatchSize', outbox.relayBatchSize ?? DEFAULTS.outbox.relayBatchSize),
    retryMs: positiveInteger('outbox.retryMs', outbox.retryMs ?? DEFAULTS.outbox.retryMs),
  };
}

/** Checks flags given in code; the env parser has already checked those that came from the environment. */
export function checkRoutingFlags(flags: RealtimeRoutingFlags): RealtimeRoutingFlags {
  const { redisStreamsPercentage: percentage } = flags;
  if (typeof percentage !== 'number' || !Number.isFinite(percentage) || percentage < 0 || percentage > 100) {
    throw new InvalidRealtimeConfigError('redisStreamsPercentage', percentage, 'a number between 0 and 100');
  }
  for (const name of ['useRedisStreams', 'fallbackToHttp', 'dualWrite'] as const) {
    if (typeof flags[name] !== 'boolean') throw new InvalidRealtimeConfigError(name, flags[name], 'true or false');
  }
  return { ...flags };
}

function healthUrls(urls: readonly string[], given: readonly string[] | undefined): string[] {
  if (!given || given.length === 0) return urls.map((url) => url.replace(/\/+$/, '') + '/health');
  if (given.length !== urls.length) {
    throw new InvalidRealtimeConfigError('httpBridge.healthUrls', given, `one URL per bridge URL (${urls.length})`);
  }
  return given.map((url) => checkUrl('httpBridge.healthUrls', url, ['http:', 'https:']));
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidRealtimeConfigError(name, value, 'a positive integer');
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new InvalidRealtimeConfigError(name, value, 'an integer >= 0');
  return value;
}
