import { parseRealtimeEnv } from './realtime-env.parser';
import { resolveRealtimeOptions } from './resolve-options';

/** The message `parse` throws. */
function messageOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('publisher configuration errors say what was expected and how to fix it', () => {
  it('never echoes the password of a Redis URL', () => {
    const message = messageOf(() => parseRealtimeEnv({ REDIS_URL: 'http://:hunter2@host' }));
    expect(message).toBe(
      'Invalid realtime configuration: REDIS_URL (redis.url) must be a URL starting with redis:// or rediss://, ' +
        'got "http://:***@host". Fix REDIS_URL, or unset it to use the default (redis://127.0.0.1:6379).',
    );
    const cluster = messageOf(() =>
      parseRealtimeEnv({ REDIS_CLUSTER_NODES: 'redis://:hunter2@r1:7000,redis://:other@r2:7000' }),
    );
    expect(cluster).toMatch(
      /^Invalid realtime configuration: REDIS_CLUSTER_NODES \(redis.clusterNodes\) must be nodes that all give the same credentials and the same TLS setting \(here: the nodes give different credentials\), got \["redis:\/\/:\*\*\*@r1:7000","redis:\/\/:\*\*\*@r2:7000"\]\. Fix REDIS_CLUSTER_NODES/,
    );
  });

  it('names an enum setting with its choices in plain words', () => {
    expect(messageOf(() => parseRealtimeEnv({ REALTIME_TRANSPORT: 'http_bridge' }))).toMatch(
      /^Invalid realtime configuration: REALTIME_TRANSPORT \(transport\) must be one of redis-streams, http-bridge, in-process or dual, got "http_bridge"\. Fix REALTIME_TRANSPORT/,
    );
  });

  it('never shows the bridge secret', () => {
    const message = messageOf(() =>
      resolveRealtimeOptions({ httpBridge: { urls: ['http://gw/x'], secret: 42 as unknown as string } }),
    );
    expect(message).toMatch(/^Invalid realtime configuration: httpBridge.secret must be a string, got \(not shown\)/);
  });

  it('names the variable of an option given in code', () => {
    expect(messageOf(() => resolveRealtimeOptions({ redis: { shards: 0 } }))).toBe(
      'Invalid realtime configuration: redis.shards must be an integer between 1 and 1024, got 0. Fix redis.shards ' +
        'in the module options (forRoot/forRootAsync) or REALTIME_STREAM_SHARDS in the environment, or leave it out ' +
        'to use the default (1).',
    );
  });
});
