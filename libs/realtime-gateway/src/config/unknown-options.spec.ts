import { Test } from '@nestjs/testing';
import { UnknownRealtimeOptionError } from '@realtime-streams/common';
import { RealtimeGatewayModule } from '../realtime-gateway.module';
import type { RealtimeGatewayOptions } from '../realtime-gateway-options.interface';
import { resolveGatewayOptions } from './resolve-gateway-options';

const auth = { jwtSecret: 'x'.repeat(32) };

/** Options with a key the schema does not have: typed loosely, as a spread or a JavaScript caller would pass them. */
const withTypo = (options: object) => ({ auth, ...options }) as RealtimeGatewayOptions;

describe('gateway options: unknown keys are refused, with the option meant', () => {
  it.each([
    [{ redis: { streamKeyPrefx: 'rt' } }, 'redis.streamKeyPrefx', 'redis.streamKeyPrefix'],
    [{ redis: { shard: 4 } }, 'redis.shard', 'redis.shards'],
    [{ hub: { keepAliveIntervalMS: 1000 } }, 'hub.keepAliveIntervalMS', 'hub.keepAliveIntervalMs'],
    [{ auth: { ...auth, jwt: { secret: auth.jwtSecret, issuers: ['me'] } } }, 'auth.jwt.issuers', 'auth.jwt.issuer'],
    [{ instanceID: 'gw-1' }, 'instanceID', 'instanceId'],
    [{ shards: 4 }, 'shards', 'redis.shards'],
  ])('%j: %s, did you mean %s?', (options, option, suggestion) => {
    const resolve = () => resolveGatewayOptions(withTypo(options));
    expect(resolve).toThrow(UnknownRealtimeOptionError);
    expect(resolve).toThrow(
      `Invalid realtime configuration: ${option} is not an option. Did you mean ${suggestion}? ` +
        'Fix its name or remove it (unknown options are refused, not ignored).',
    );
  });

  it('stops RealtimeGatewayModule.forRoot and forRootAsync from starting', async () => {
    await expect(
      Test.createTestingModule({
        imports: [RealtimeGatewayModule.forRoot(withTypo({ redis: { shard: 4 } }))],
      }).compile(),
    ).rejects.toThrow(/redis.shard is not an option. Did you mean redis.shards\?/);
    await expect(
      Test.createTestingModule({
        imports: [RealtimeGatewayModule.forRootAsync({ useFactory: () => withTypo({ dedup: { ttl: 1000 } }) })],
      }).compile(),
    ).rejects.toThrow(/dedup.ttl is not an option. The options there are: ttlMs, maxEntries\./);
  });
});
