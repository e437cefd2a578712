import { Test } from '@nestjs/testing';
import { UnknownRealtimeOptionError } from '@realtime-streams/common';
import { RealtimeTransportModule } from '../realtime-transport.module';
import type { RealtimeTransportOptions } from '../realtime-transport-options.interface';
import { resolveRealtimeOptions } from './resolve-options';

/** Options with a key the schema does not have: typed loosely, as a spread or a JavaScript caller would pass them. */
const withTypo = (options: object) => ({ inProcess: true, ...options }) as RealtimeTransportOptions;

describe('publisher options: unknown keys are refused, with the option meant', () => {
  it.each([
    [{ redis: { shard: 4 } }, 'redis.shard', 'redis.shards'],
    [{ redis: { streamKeyPrefx: 'rt' } }, 'redis.streamKeyPrefx', 'redis.streamKeyPrefix'],
    [{ httpBridge: { urls: ['http://gw/x'], secrt: 's' } }, 'httpBridge.secrt', 'httpBridge.secret'],
    [{ breaker: { failureTreshold: 5 } }, 'breaker.failureTreshold', 'breaker.failureThreshold'],
    [{ useRedisStream: false }, 'useRedisStream', 'useRedisStreams'],
    [{ streamKeyPrefix: 'rt' }, 'streamKeyPrefix', 'redis.streamKeyPrefix'],
  ])('%j: %s, did you mean %s?', (options, option, suggestion) => {
    const resolve = () => resolveRealtimeOptions(withTypo(options));
    expect(resolve).toThrow(UnknownRealtimeOptionError);
    expect(resolve).toThrow(
      `Invalid realtime configuration: ${option} is not an option. Did you mean ${suggestion}? ` +
        'Fix its name or remove it (unknown options are refused, not ignored).',
    );
  });

  it('leaves what the application passes whole alone (ioredis options)', () => {
    const options = resolveRealtimeOptions({ redis: { options: { host: 'r', enableAutoPipelining: true } } });
    expect(options.redis?.options).toEqual({ host: 'r', enableAutoPipelining: true });
  });

  it('stops RealtimeTransportModule.forRoot and forRootAsync from starting', async () => {
    await expect(
      Test.createTestingModule({
        imports: [RealtimeTransportModule.forRoot(withTypo({ redis: { shard: 4 } }))],
      }).compile(),
    ).rejects.toThrow(/redis.shard is not an option. Did you mean redis.shards\?/);
    await expect(
      Test.createTestingModule({
        imports: [RealtimeTransportModule.forRootAsync({ useFactory: () => withTypo({ maxBatch: 10 }) })],
      }).compile(),
    ).rejects.toThrow(/maxBatch is not an option\. Did you mean maxBatchSize\?/);
  });
});
