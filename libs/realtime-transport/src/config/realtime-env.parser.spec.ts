import { InvalidRealtimeConfigError } from '@realtime-streams/common';
import { parseRealtimeEnv, parseRoutingFlags } from './realtime-env.parser';
import { resolveRealtimeOptions } from './resolve-options';

describe('realtime configuration from the environment', () => {
  it('applies the documented defaults to an empty environment', () => {
    const options = resolveRealtimeOptions(parseRealtimeEnv({}));
    expect(options.flags).toEqual({
      useRedisStreams: true,
      redisStreamsPercentage: 100,
      fallbackToHttp: true,
      dualWrite: false,
    });
    expect(options.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      streamKeyPrefix: 'realtime',
      shards: 1,
      maxLen: 100_000,
      retentionMs: 600_000,
    });
    expect(options.httpBridge).toBeUndefined();
    expect(options.transports).toEqual(['redis-streams']);
    expect(options.maxArgsBytes).toBe(65_536);
    expect(options.maxArgsDepth).toBe(32);
    expect(options.bufferCapacity).toBe(10_000);
    expect(options.coalesceWindowMs).toBe(100);
    // SIGHUP reload is opt-in: no env file unless REALTIME_ENV_FILE names one.
    expect(options.reloadEnvFile).toBeUndefined();
  });

  it('reads every variable', () => {
    const options = resolveRealtimeOptions(
      parseRealtimeEnv({
        REALTIME_USE_REDIS_STREAMS: 'false',
        REALTIME_REDIS_STREAMS_PERCENTAGE: '12.5',
        REALTIME_FALLBACK_TO_HTTP: 'no',
        REALTIME_DUAL_WRITE: 'ON',
        REDIS_URL: 'redis://redis:6380/2',
        REALTIME_STREAM_SHARDS: '4',
        REALTIME_HTTP_BRIDGE_URL:
          'http://gw-1:3000/internal/realtime/events, http://gw-2:3000/internal/realtime/events',
        REALTIME_BRIDGE_SECRET: 's3cret',
        REALTIME_BUFFER_CAPACITY: '500',
        REALTIME_MAX_ARGS_BYTES: '1024',
        REALTIME_MAX_ARGS_DEPTH: '8',
        REALTIME_TYPING_WINDOW_MS: '250',
        REALTIME_COALESCER_MAX_KEYS: '5000',
      }),
    );
    expect(options.flags).toEqual({
      useRedisStreams: false,
      redisStreamsPercentage: 12.5,
      fallbackToHttp: false,
      dualWrite: true,
    });
    expect(options.redis?.url).toBe('redis://redis:6380/2');
    expect(options.redis?.shards).toBe(4);
    expect(options.httpBridge?.urls).toEqual([
      'http://gw-1:3000/internal/realtime/events',
      'http://gw-2:3000/internal/realtime/events',
    ]);
    expect(options.httpBridge?.healthUrls).toEqual([
      'http://gw-1:3000/internal/realtime/events/health',
      'http://gw-2:3000/internal/realtime/events/health',
    ]);
    expect(options.httpBridge?.secret).toBe('s3cret');
    expect(options.transports).toEqual(['redis-streams', 'http-bridge']);
    expect(options.bufferCapacity).toBe(500);
    expect(options.maxArgsBytes).toBe(1024);
    expect(options.maxArgsDepth).toBe(8);
    expect(options.coalesceWindowMs).toBe(250);
    expect(options.coalescerMaxKeys).toBe(5000);
  });

  it('reads REDIS_CLUSTER_NODES as the seed nodes of a cluster', () => {
    const options = resolveRealtimeOptions(
      parseRealtimeEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000,redis://:pw@10.0.0.3:7000' }),
    );
    expect(options.redis?.clusterNodes).toEqual(['10.0.0.1:7000', '10.0.0.2:7000', 'redis://:pw@10.0.0.3:7000']);
  });

  it.each([
    [
      'REALTIME_REDIS_STREAMS_PERCENTAGE',
      '150',
      /REALTIME_REDIS_STREAMS_PERCENTAGE \(redisStreamsPercentage\) must be a number between 0 and 100, got 150/,
    ],
    ['REALTIME_REDIS_STREAMS_PERCENTAGE', 'half', /REALTIME_REDIS_STREAMS_PERCENTAGE must be a number/],
    ['REALTIME_USE_REDIS_STREAMS', 'maybe', /REALTIME_USE_REDIS_STREAMS must be true or false, got "maybe"/],
    ['REDIS_URL', 'not a url', /REDIS_URL \(redis.url\) must be a URL starting with redis:\/\/ or rediss:\/\//],
    [
      'REDIS_URL',
      'http://127.0.0.1:6379',
      /REDIS_URL \(redis.url\) must be a URL starting with redis:\/\/ or rediss:\/\//,
    ],
    [
      'REALTIME_HTTP_BRIDGE_URL',
      'http://ok:1/x,::bad',
      /REALTIME_HTTP_BRIDGE_URL \(httpBridge.urls\) must be a URL starting with http:\/\/ or https:\/\/, got "::bad"/,
    ],
    ['REALTIME_STREAM_SHARDS', '0', /REALTIME_STREAM_SHARDS \(redis.shards\) must be an integer between 1 and 1024/],
    ['REDIS_CLUSTER_NODES', 'r1:7000,r2', /REDIS_CLUSTER_NODES \(redis.clusterNodes\) must be host:port or redis/],
    ['REDIS_CLUSTER_NODES', 'rediss://r1:7000,r2:7000', /REDIS_CLUSTER_NODES \(redis.clusterNodes\).*mix of rediss/],
    ['REALTIME_STREAM_KEY_PREFIX', 'app{x}', /REALTIME_STREAM_KEY_PREFIX \(redis.streamKeyPrefix\).*no \{ or \}/],
    [
      'REALTIME_BUFFER_CAPACITY',
      '1.5',
      /REALTIME_BUFFER_CAPACITY \(bufferCapacity\) must be an integer between 1 and 10000000, got 1.5/,
    ],
  ])('refuses %s=%p with a message naming the variable', (name, value, message) => {
    const parse = () => parseRealtimeEnv({ [name]: value });
    expect(parse).toThrow(InvalidRealtimeConfigError);
    expect(parse).toThrow(message);
  });

  it('reads the routing flags alone for a reload', () => {
    expect(parseRoutingFlags({ REALTIME_USE_REDIS_STREAMS: '0', REDIS_URL: '::ignored::' })).toEqual({
      useRedisStreams: false,
      redisStreamsPercentage: 100,
      fallbackToHttp: true,
      dualWrite: false,
    });
  });
});

describe('options given in code', () => {
  it('names the option that is wrong', () => {
    expect(() => resolveRealtimeOptions({ redis: { url: 'redis://x' }, redisStreamsPercentage: -1 })).toThrow(
      /redisStreamsPercentage must be a number between 0 and 100/,
    );
    expect(() => resolveRealtimeOptions({ redis: { url: 'redis://x', shards: 0 } })).toThrow(
      /redis.shards must be an integer between 1 and 1024/,
    );
    expect(() => resolveRealtimeOptions({ httpBridge: { urls: [] } })).toThrow(
      /httpBridge.urls must be a list of at least 1/,
    );
    expect(() => resolveRealtimeOptions({})).toThrow(/at least one transport/);
  });

  it('keeps REALTIME_TYPING_WINDOW_MS working under its new name REALTIME_COALESCE_WINDOW_MS', () => {
    expect(resolveRealtimeOptions(parseRealtimeEnv({ REALTIME_TYPING_WINDOW_MS: '70' })).coalesceWindowMs).toBe(70);
    const both = { REALTIME_COALESCE_WINDOW_MS: '40', REALTIME_TYPING_WINDOW_MS: '70' };
    expect(resolveRealtimeOptions(parseRealtimeEnv(both)).coalesceWindowMs).toBe(40);
  });

  it('has one bound per setting, whether it comes from code or the environment', () => {
    expect(() => resolveRealtimeOptions({ redis: {}, probeIntervalMs: 5 })).toThrow(
      /probeIntervalMs must be an integer between 10/,
    );
    expect(() => parseRealtimeEnv({ REALTIME_PROBE_INTERVAL_MS: '5' })).toThrow(
      /REALTIME_PROBE_INTERVAL_MS \(probeIntervalMs\) must be an integer between 10/,
    );
  });

  it('uses only the in-process transport when asked to', () => {
    expect(resolveRealtimeOptions({ inProcess: true, redis: { url: 'redis://x' } }).transports).toEqual(['in-process']);
  });
});

describe('the transport setting (REALTIME_TRANSPORT)', () => {
  const bridge = 'http://gw:3000/internal/realtime/events';
  const fromEnv = (env: Record<string, string>) => resolveRealtimeOptions(parseRealtimeEnv(env));

  it.each([
    // [REALTIME_TRANSPORT, REALTIME_HTTP_BRIDGE_URL set, transports created, Redis options kept]
    ['redis-streams', false, ['redis-streams'], true],
    ['redis-streams', true, ['redis-streams', 'http-bridge'], true],
    ['http-bridge', true, ['http-bridge'], false],
    ['in-process', true, ['in-process'], false],
    ['dual', true, ['redis-streams', 'http-bridge'], true],
  ] as const)('%s, bridge set: %s -> creates %j and uses Redis: %s', (mode, withBridge, transports, usesRedis) => {
    const options = fromEnv({ REALTIME_TRANSPORT: mode, ...(withBridge ? { REALTIME_HTTP_BRIDGE_URL: bridge } : {}) });
    expect(options.transport).toBe(mode);
    expect(options.transports).toEqual(transports);
    expect(options.redis !== undefined).toBe(usesRedis);
  });

  it('is derived from the configured sections when not set, as before the setting existed', () => {
    expect(fromEnv({}).transport).toBe('redis-streams');
    expect(fromEnv({ REALTIME_HTTP_BRIDGE_URL: bridge }).transports).toEqual(['redis-streams', 'http-bridge']);
    expect(resolveRealtimeOptions({ httpBridge: { urls: [bridge] } }).transport).toBe('http-bridge');
  });

  it('names what a mode is missing, and the variable to set', () => {
    expect(() => fromEnv({ REALTIME_TRANSPORT: 'http-bridge' })).toThrow(
      /httpBridge.urls \(REALTIME_HTTP_BRIDGE_URL\) must be set when transport is 'http-bridge'/,
    );
    expect(() => resolveRealtimeOptions({ transport: 'dual', httpBridge: { urls: [bridge] } })).toThrow(
      /redis \(REDIS_URL\) must be set when transport is 'dual'/,
    );
    expect(() => resolveRealtimeOptions({ transport: 'http-bridge', inProcess: true })).toThrow(
      /inProcess` is the older spelling/,
    );
    expect(() => fromEnv({ REALTIME_TRANSPORT: 'kafka' })).toThrow(/REALTIME_TRANSPORT/);
  });
});
