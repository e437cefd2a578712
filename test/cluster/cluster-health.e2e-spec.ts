import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import { RedisHealthIndicator } from '@realtime-streams/transport';
import { EventBus } from '@nestjs/cqrs';
import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import { type GatewayApp, startGatewayApp } from '../support/gateway-app';
import { RedisCluster } from '../support/redis-cluster';
import { eventually } from '../support/stream-reader';
import { roomPerShard, SHARDS, slotOfShard, STREAM_KEYS } from './cluster-deployment';

@RealtimeEvent({ method: 'ReceiveMessage', type: 'chat.message.created', to: (e: Said) => toGroup(`room:${e.room}`) })
class Said {
  constructor(readonly room: string) {}
}

const ROOMS = roomPerShard('health');

/** One event to every room, so every shard gets an append. */
function publishOne(gw: GatewayApp): void {
  const bus = gw.app.get(EventBus);
  for (const room of ROOMS) bus.publish(new Said(room));
}

/**
 * Finding: against a cluster the gateway's consumer looped on `MOVED` while `/health` said "running" and "up".
 * Health now names the shards that fail, with the error, on both sides.
 */
describe('health on a Redis Cluster (real 6-node cluster)', () => {
  let cluster: RedisCluster;
  let gw: GatewayApp | undefined;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);

  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  const start = (redis: { url?: string; clusterNodes?: string[] }, interestRouting = true) =>
    startGatewayApp(
      {
        instanceId: 'cluster-health',
        redis: { shards: SHARDS, blockMs: 300, monitorIntervalMs: 200, interestRouting, ...redis },
      },
      { redis: { shards: SHARDS, ...redis } },
    );

  it('reports a gateway given one node as a single Redis failing, with the redirection', async () => {
    const [node] = cluster.seedNodes;
    gw = await start({ url: `redis://${node.host}:${node.port}` });
    const health = gw.app.get(GatewayHealthIndicator);
    await eventually(() =>
      expect(health.isHealthy().realtime_gateway).toMatchObject({
        consumer: 'failing',
        lastError: expect.stringMatching(/^(MOVED|CROSSSLOT).*REDIS_CLUSTER_NODES/),
      }),
    );
  });

  // Every shard read from start (interest routing off): a routed gateway reads, and reports, the shards of its clients.
  it('names the shards of a killed master as failing (degraded), on the gateway and the publisher, until its replica took over', async () => {
    gw = await start({ clusterNodes: cluster.seeds.split(',') }, false);
    const gateway = gw.app.get(GatewayHealthIndicator);
    const publisher = gw.app.get(RedisHealthIndicator);
    await eventually(() => {
      const now = gateway.isHealthy().realtime_gateway;
      expect(now).toMatchObject({ status: 'up', consumer: 'running', shards: { total: SHARDS, failing: [] } });
      expect(now).not.toHaveProperty('degraded');
    });
    const victim = await cluster.masterOf(slotOfShard(0));
    const victimShards: string[] = [];
    for (let shard = 0; shard < SHARDS; shard++)
      if ((await cluster.masterOf(slotOfShard(shard))).port === victim.port) victimShards.push(STREAM_KEYS[shard]);
    expect(victimShards).toHaveLength(2);

    // Appends to its shards fail now (events keep being published to every room): the publisher takes those shards
    // down on their own.
    await cluster.kill(victim.port);
    let seenGateway: Record<string, any> | undefined;
    let seenPublisher: Record<string, any> | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (!seenGateway || !seenPublisher)) {
      const g = gateway.isHealthy().realtime_gateway as Record<string, any>;
      if (!seenGateway && g.degraded) seenGateway = g;
      const p = (await publisher.isHealthy()).redis as Record<string, any>;
      if (!seenPublisher && p.degraded) seenPublisher = p;
      publishOne(gw);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seenGateway).toMatchObject({ status: 'up', degraded: true });
    const failing = (seenGateway!.shards.failing as Array<{ stream: string; error: string }>).map((s) => s.stream);
    expect(failing.every((stream) => victimShards.includes(stream))).toBe(true);
    expect(seenPublisher).toMatchObject({ status: 'up', degraded: true, shards: { total: SHARDS } });
    expect(seenPublisher!.shards.down.every((s: { stream: string }) => victimShards.includes(s.stream))).toBe(true);

    await eventually(() => {
      const now = gateway.isHealthy().realtime_gateway;
      expect(now).toMatchObject({ status: 'up', consumer: 'running', shards: { failing: [] } });
    }, 20_000);
    await cluster.restart(victim.port);
    await cluster.waitUntilOk();
  }, 60_000);
});
