import { defineStreamAppend } from '@realtime-streams/transport/testing';
import { GATEWAY_METRIC } from '@realtime-streams/gateway';
import { ShardInterest, StreamConsumer, StreamMonitor } from '@realtime-streams/gateway/testing';
import { sequenceKeyOf, StreamKeys, streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { envelope, sleep } from './support';

const json = () => JSON.stringify(envelope({ kind: 'group', name: 'room:1' }));

describe('stream monitor (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp;
  const key = streamKey('realtime', 0);

  beforeEach(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    gw = await startGatewayApp({
      instanceId: 'mon',
      redis: { url: redis.url, interestRouting: false, blockMs: 200, monitorIntervalMs: 60_000, groupMaxIdleMs: 300 },
    });
    // The consumer creates its group as it starts.
    await eventually(async () => expect(await admin.exists(key)).toBe(1));
  });

  afterEach(async () => {
    await gw.close();
    admin.disconnect();
    await redis.dispose();
  });

  it('reports lag as the counter minus the last entry read, back to 0 after entries were trimmed unread', async () => {
    const appender = defineStreamAppend(admin);
    // Small stream nodes, so `MAXLEN ~ 10` trims close to 10 (Redis trims whole nodes only).
    await admin.config('SET', 'stream-node-max-entries', '5');
    const append = (count: number) =>
      appender.realtimeAppend(
        key,
        sequenceKeyOf(key),
        '600000',
        '10',
        ...Array.from({ length: count }, () => [json(), 'group:room:1', '']).flat(),
      );
    const consumer = gw.app.get(StreamConsumer);
    const monitor = gw.app.get(StreamMonitor);
    const gaps = async () => (await register.getSingleMetric(GATEWAY_METRIC.gapEntries)?.get())?.values[0]?.value ?? 0;

    await append(5);
    await eventually(() => expect(consumer.delivered).toBe(5));
    await monitor.check();
    expect(monitor.lag).toBe(0);

    await consumer.stop();
    await append(100);
    await monitor.check();
    // What is really left to read: 100, of which all but about 10 are gone already.
    expect(monitor.lag).toBe(100);

    await consumer.start();
    await eventually(async () => {
      await monitor.check();
      expect(monitor.lag).toBe(0);
    });
    // Counted once and exactly: what the counter says was appended minus what this gateway read.
    expect(await gaps()).toBe(105 - consumer.delivered);
    expect(await gaps()).toBeGreaterThanOrEqual(85);
    await monitor.check();
    expect(await gaps()).toBe(105 - consumer.delivered);
    expect((await register.getSingleMetric(GATEWAY_METRIC.streamLag)?.get())?.values[0]?.value).toBe(0);
  });

  it('removes the consumer groups of gateways gone for longer than the idle limit, and only those', async () => {
    await admin.xgroup('CREATE', key, 'gateway:old', '0');
    await admin.xgroup('CREATE', key, 'gateway:recent', '0');
    await admin.xgroup('CREATE', key, 'analytics', '0');
    // "recent" stopped a moment ago: its heartbeat has not expired yet; "old" beat last long ago.
    await admin.set('realtime:gateway:recent', '1', 'PX', 10_000);
    await admin.set('realtime:gateway:old', '1', 'PX', 100);
    await sleep(400);
    await gw.app.get(StreamMonitor).check();
    const groups = ((await admin.xinfo('GROUPS', key)) as unknown[][]).map((g) => g[1]).sort();
    expect(groups).toEqual(['analytics', 'gateway:mon', 'gateway:recent']);
    // This instance keeps beating, so its own group stays, however long it has been quiet.
    expect(await admin.exists('realtime:gateway:mon')).toBe(1);
  });
});

describe('stream monitor with interest routing (real redis-server)', () => {
  const SHARDS = 64;
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp;

  beforeEach(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    gw = await startGatewayApp({
      instanceId: 'routed',
      redis: { url: redis.url, shards: SHARDS, blockMs: 200, monitorIntervalMs: 60_000, groupMaxIdleMs: 300 },
    });
  });

  afterEach(async () => {
    await gw.close();
    admin.disconnect();
    await redis.dispose();
  });

  it('reports the lag of the shards read from their counters, and sweeps every shard for gone groups a slice a check', async () => {
    const keys = new StreamKeys('realtime', SHARDS).all;
    const interest = gw.app.get(ShardInterest);
    const monitor = gw.app.get(StreamMonitor);
    await interest.prepare(['group:room:1']);
    const [reading] = interest.readKeys();
    await monitor.check();
    expect(monitor.lag).toBe(0);
    // Three entries counted that the reader has not read (the counter moved without them: what lag measures).
    await admin.incrby(sequenceKeyOf(reading), 3);
    await monitor.check();
    expect(monitor.lag).toBe(3);

    // A gone instance's groups on two shards: found by the sweep, 32 shards per check, however many are read.
    for (const key of [keys[1], keys[40]]) await admin.xgroup('CREATE', key, 'gateway:gone', '$', 'MKSTREAM');
    await sleep(400);
    const groupsOn = async (key: string) => ((await admin.xinfo('GROUPS', key)) as unknown[][]).map((g) => g[1]);
    await monitor.check();
    expect([await groupsOn(keys[1]), await groupsOn(keys[40])]).toEqual([[], ['gateway:gone']]);
    await monitor.check();
    expect(await groupsOn(keys[40])).toEqual([]);
    expect(monitor.lastError).toBeUndefined();
  });
});
