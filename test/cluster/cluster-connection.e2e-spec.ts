import { EventBus } from '@nestjs/cqrs';
import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import { StreamKeys } from '@realtime-streams/contracts';
import { Cluster } from 'ioredis';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisCluster } from '../support/redis-cluster';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

@RealtimeEvent({ method: 'ReceiveMessage', to: (e: Numbered) => toGroup(`room:${e.room}`) })
class Numbered {
  constructor(
    readonly room: string,
    readonly seq: number,
  ) {}
}

const PASSWORD = 'a-cluster-password-only-this-test-knows';
const SHARDS = 3;

/**
 * A password-protected cluster, reached the two ways an application can: the publisher from seed URLs carrying the
 * password (what `REDIS_CLUSTER_NODES` takes), the gateway from the application's own ioredis Cluster client.
 */
describe('Redis Cluster given as seed URLs with a password, or as an application Cluster client', () => {
  let cluster: RedisCluster;
  let gw: GatewayApp | undefined;
  let client: TestClient | undefined;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ password: PASSWORD });
  }, 60_000);

  afterEach(async () => {
    await client?.stop().catch(() => undefined);
    await gw?.close();
    client = gw = undefined;
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  it('publishes and consumes every event once, in order, and leaves the application client open', async () => {
    const appClient = new Cluster(cluster.seedNodes, { redisOptions: { password: PASSWORD } });
    const seeds = cluster.seedNodes.map(({ host, port }) => `redis://:${PASSWORD}@${host}:${port}`);
    gw = await startGatewayApp(
      { instanceId: 'cluster-client', redis: { client: appClient, shards: SHARDS, blockMs: 500 } },
      { redis: { clusterNodes: seeds, shards: SHARDS } },
    );
    client = await new TestClient(gw.hubUrl, tokenFor('alice')).start();
    await client.connection.invoke('JoinGroup', 'room:1');
    const bus = gw.app.get(EventBus);
    for (let seq = 0; seq < 100; seq++) bus.publish(new Numbered('1', seq));

    await eventually(() => expect(client!.of('ReceiveMessage')).toHaveLength(100));
    const seqs = client.of('ReceiveMessage').map(([m]) => (m as Numbered).seq);
    expect(seqs).toEqual([...Array(100).keys()]);
    // In the cluster's shards (balanced tags), 100 entries in all.
    const admin = cluster.client();
    try {
      const keys = new StreamKeys('realtime', SHARDS, 'balanced').all;
      const lengths = await Promise.all(keys.map((key) => admin.xlen(key)));
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(100);
    } finally {
      admin.disconnect();
    }

    await gw.close();
    gw = undefined;
    expect(appClient.status).toBe('ready');
    expect(await appClient.ping()).toBe('PONG');
    appClient.disconnect();
  });

  it('reports the refusal on health when the seeds carry no password', async () => {
    const seeds = cluster.seedNodes.map(({ host, port }) => `${host}:${port}`);
    gw = await startGatewayApp({ instanceId: 'no-password', redis: { clusterNodes: seeds, blockMs: 300 } });
    const health = gw.app.get(GatewayHealthIndicator);
    await eventually(
      () =>
        expect(health.isHealthy().realtime_gateway).toMatchObject({
          consumer: 'failing',
          lastError: expect.stringMatching(/NOAUTH/),
        }),
      15_000,
    );
  });
});
