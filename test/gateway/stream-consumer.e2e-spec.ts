import { EventBus } from '@nestjs/cqrs';
import { GATEWAY_METRIC, GatewayHealthIndicator } from '@realtime-streams/gateway';
import { StreamConsumer } from '@realtime-streams/gateway/testing';
import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { type Counter, register, Registry } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { RecoveringClient } from './recovering-client';
import { sleep } from './support';

@RealtimeEvent({ method: 'ReceiveMessage', type: 'chat.message.created', to: (e: Said) => toGroup(`room:${e.room}`) })
class Said {
  constructor(
    readonly room: string,
    readonly n: number,
  ) {}
}

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: Numbered) => toGroup(`room:${e.room}`),
})
class Numbered {
  constructor(
    readonly room: string,
    readonly seq: number,
  ) {}
}

@RealtimeEvent({
  method: 'ReceiveMessage',
  to: (e: InOrder) => toGroup(`room:${e.room}`),
  sequence: (e: InOrder) => e.seq,
})
class InOrder {
  constructor(
    readonly room: string,
    readonly seq: number,
  ) {}
}

const metricValue = async (name: string, labels: Record<string, string> = {}) => {
  const metric = (await register.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return Number(sample?.value ?? 0);
};

describe('gateway stream consumer (real redis-server, stock clients)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const apps: GatewayApp[] = [];
  const clients: TestClient[] = [];
  const recovering: RecoveringClient[] = [];

  const start = async (instanceId: string, publisher = true, extra: Parameters<typeof startGatewayApp>[0] = {}) => {
    const gw = await startGatewayApp(
      { instanceId, redis: { url: redis.url, blockMs: 500, monitorIntervalMs: 200 }, ...extra },
      publisher
        ? { redis: { url: redis.url }, probeIntervalMs: 100, breaker: { failureThreshold: 1, openMs: 100 } }
        : undefined,
    );
    apps.push(gw);
    return gw;
  };
  const join = async (gw: GatewayApp, user: string, room: string) => {
    const client = await new TestClient(gw.hubUrl, tokenFor(user), { reconnect: true }).start();
    clients.push(client);
    await client.connection.invoke('JoinGroup', `room:${room}`);
    return client;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
  });

  afterEach(async () => {
    await Promise.all([...clients.splice(0), ...recovering.splice(0)].map((c) => c.stop().catch(() => undefined)));
    for (const gw of apps.splice(0)) await gw.close();
    redis.resume();
    if (!redis.running) await redis.start();
    await admin.flushall().catch(() => undefined);
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.dispose();
  });

  it('skips entries for rooms with no member here on their routing key, and a member joining gets the next at once', async () => {
    const gw = await start('routing');
    const bus = gw.app.get(EventBus);
    // A member of another room on the same (only) shard: interest routing reads the shard for bob.
    await join(gw, 'bob', 'busy');
    // Numbered like the reference app's messages: the room's order travels with each entry (field q).
    for (let seq = 1; seq <= 20; seq++) bus.publish(new InOrder('quiet', seq));
    await eventually(async () => expect(await metricValue(GATEWAY_METRIC.entriesForNobody)).toBe(20));
    expect(gw.app.get(StreamConsumer).delivered).toBe(20);
    // Not parsed, so not counted as envelopes received either.
    expect(await metricValue(GATEWAY_METRIC.envelopesReceived, { transport: 'redis-streams' })).toBe(0);
    const entries = await admin.xrange(streamKey('realtime', 0), '-', '+');
    expect(entries.map(([, fields]) => [fields[4], fields[5], fields[6], fields[7]])).toEqual(
      Array.from({ length: 20 }, (_, i) => ['t', 'group:room:quiet', 'q', String(i + 1)]),
    );

    const alice = await join(gw, 'alice', 'quiet');
    for (let seq = 21; seq <= 30; seq++) bus.publish(new InOrder('quiet', seq));
    await eventually(() => expect(alice.of('ReceiveMessage')).toHaveLength(10));
    expect(alice.of('ReceiveMessage').map(([m]) => (m as InOrder).seq)).toEqual(
      [...Array(10).keys()].map((i) => 21 + i),
    );
    // The gateway knew where the room stood: 21 went out at once, nothing waited for an earlier number.
    expect(await metricValue(GATEWAY_METRIC.orderHeld)).toBe(0);
    expect(await metricValue(GATEWAY_METRIC.entriesForNobody)).toBe(20);
  });

  it('delivers events published through Redis Streams to the room, in order, and reports health and lag', async () => {
    const gw = await start('one');
    const alice = await join(gw, 'alice', '1');
    const outsider = await join(gw, 'bob', '2');
    const bus = gw.app.get(EventBus);
    for (let n = 0; n < 200; n++) bus.publish(new Said('1', n));
    await eventually(() => expect(alice.of('ReceiveMessage')).toHaveLength(200));
    expect(alice.of('ReceiveMessage').map(([m]) => (m as Said).n)).toEqual([...Array(200).keys()]);
    expect(outsider.received).toEqual([]);
    expect(gw.app.get(GatewayHealthIndicator).isHealthy().realtime_gateway).toMatchObject({
      status: 'up',
      consumer: 'running',
    });
    expect((await gw.app.get(GatewayHealthIndicator).isRedisHealthy()).redis.status).toBe('up');
    await eventually(async () => expect(await metricValue(GATEWAY_METRIC.streamLag, { group: 'gateway:one' })).toBe(0));
    expect(await metricValue(GATEWAY_METRIC.invocationsSent, { transport: 'redis-streams' })).toBe(200);
    expect((await register.getSingleMetric(GATEWAY_METRIC.deliveryLatency)?.get())?.values.length).toBeGreaterThan(0);
  });

  it('recovers when Redis is killed and restarted empty while clients are connected, keeping them live when it had read everything', async () => {
    const gw = await start('crash');
    const stored: number[] = [];
    const alice = await new RecoveringClient(gw.hubUrl, 'alice', 'room:1', () => stored).start();
    recovering.push(alice);
    const bus = gw.app.get(EventBus);
    const post = (seq: number) => {
      stored.push(seq);
      bus.publish(new Numbered('1', seq));
    };
    post(0);
    await eventually(() => expect(alice.live).toEqual([0]));

    await redis.kill();
    post(1); // waits in the publisher's buffer while Redis is down
    await sleep(300);
    await redis.start(); // empty: no stream, no group, no counter
    post(2);
    // The gateway had read everything when Redis went (its read was blocked waiting): what Redis lost is what the
    // publisher sends again (buffer, replay), so the loss is counted but nobody is disconnected.
    await eventually(() => expect(alice.missing(3)).toEqual([]), 15_000);
    expect(alice.live).toEqual([0, 1, 2]);
    expect(alice.closes).toEqual([]);
    expect(alice.liveDuplicates).toBe(0);
    expect(await metricValue(GATEWAY_METRIC.consumerGaps)).toBeGreaterThanOrEqual(1);
    expect(await metricValue(GATEWAY_METRIC.gapDisconnects)).toBe(0);
  });

  it('notices a half-dead connection (Redis frozen) and resumes when Redis answers again', async () => {
    const gw = await start('frozen', true, { redis: { url: redis.url, blockMs: 200, monitorIntervalMs: 200 } });
    const alice = await join(gw, 'alice', '1');
    // Steady state first: the consumer is reading when Redis freezes.
    gw.app.get(EventBus).publish(new Said('1', 0));
    await eventually(() => expect(alice.of('ReceiveMessage')).toHaveLength(1));
    redis.pause();
    // BLOCK 200 ms + the 3 s grace: the read times out, counted as such as the connection is replaced. Frozen until
    // then (not for a fixed 5 s, which is that plus a margin).
    const consumerErrors = async () =>
      (await register.getSingleMetric(GATEWAY_METRIC.consumerErrors)?.get())?.values ?? [];
    await eventually(
      async () => expect((await consumerErrors()).some((v) => v.labels.kind === 'timeout')).toBe(true),
      10_000,
    );
    redis.resume();
    gw.app.get(EventBus).publish(new Said('1', 1));
    await eventually(() => expect(alice.of('ReceiveMessage')).toHaveLength(2), 15_000);
    const errors = await consumerErrors();
    expect({ errors, gaps: await metricValue(GATEWAY_METRIC.consumerGaps) }).toMatchObject({
      errors: expect.arrayContaining([expect.objectContaining({ labels: { kind: 'timeout' } })]),
    });
  });

  it('gives every gateway instance every event (one consumer group each)', async () => {
    const first = await start('gw-a');
    const second = await start('gw-b', false);
    const onFirst = await join(first, 'alice', '1');
    const onSecond = await join(second, 'bob', '1');
    for (let n = 0; n < 20; n++) first.app.get(EventBus).publish(new Said('1', n));
    await eventually(() => {
      expect(onFirst.of('ReceiveMessage')).toHaveLength(20);
      expect(onSecond.of('ReceiveMessage')).toHaveLength(20);
    });
    const groups = (await admin.xinfo('GROUPS', streamKey('realtime', 0))) as unknown[][];
    expect(groups.map((g) => g[1]).sort()).toEqual(['gateway:gw-a', 'gateway:gw-b']);
  });

  it('delivers each event exactly once under dual write (stream and bridge)', async () => {
    const gatewayRegistry = new Registry();
    const gw = await startGatewayApp({
      instanceId: 'dual',
      redis: { url: redis.url, blockMs: 500 },
      metrics: { registry: gatewayRegistry },
    });
    apps.push(gw);
    const publisher = await startGatewayApp(
      { instanceId: 'dual-publisher-side', redis: undefined, bridge: undefined, inProcess: false },
      {
        redis: { url: redis.url },
        httpBridge: { urls: [gw.bridgeUrl], secret: 'test-bridge-secret' },
        dualWrite: true,
      },
    );
    apps.push(publisher);
    const alice = await join(gw, 'alice', '1');
    for (let n = 0; n < 50; n++) publisher.app.get(EventBus).publish(new Said('1', n));
    await publisher.app.get(FallbackChain).whenIdle();
    await eventually(() => expect(alice.of('ReceiveMessage')).toHaveLength(50));
    await sleep(300);
    expect(alice.of('ReceiveMessage').map(([m]) => (m as Said).n)).toEqual([...Array(50).keys()]);
    // The gateway app's own registry: the publisher app shares (and clears) the default one.
    const dedup = gatewayRegistry.getSingleMetric(GATEWAY_METRIC.dedupDropped) as Counter<string>;
    await eventually(async () => expect((await dedup.get()).values.reduce((sum, v) => sum + v.value, 0)).toBe(50));
    expect(alice.of('ReceiveMessage')).toHaveLength(50);
  });

  it('handles its own pending entries (read before a crash, never acknowledged) first on start', async () => {
    const key = streamKey('realtime', 0);
    await admin.xgroup('CREATE', key, 'gateway:restarted', '$', 'MKSTREAM');
    const pendingEnvelope = {
      v: 1,
      id: 'pending-1',
      type: 't',
      target: { kind: 'group', name: 'room:1' },
      method: 'ReceiveMessage',
      args: [{ pending: true }],
      ts: Date.now(),
      volatile: false,
    };
    await admin.xadd(key, '*', 'e', JSON.stringify(pendingEnvelope));
    await admin.xreadgroup('GROUP', 'gateway:restarted', 'restarted', 'COUNT', 10, 'STREAMS', key, '>');
    expect((await admin.xpending(key, 'gateway:restarted'))[0]).toBe(1);

    // Every shard read from start (interest routing off): a routed gateway removes such a group when it needs the shard.
    await start('restarted', false, { redis: { url: redis.url, blockMs: 500, interestRouting: false } });
    await eventually(async () => expect((await admin.xpending(key, 'gateway:restarted'))[0]).toBe(0));
    expect(await metricValue(GATEWAY_METRIC.envelopesReceived, { transport: 'redis-streams' })).toBe(1);
  });

  it('skips and counts entries that are not valid envelopes, and goes on', async () => {
    const gw = await start('picky', false);
    const alice = await join(gw, 'alice', '1');
    const key = streamKey('realtime', 0);
    await admin.xadd(key, '*', 'e', '{not json');
    await admin.xadd(key, '*', 'other', 'field');
    await admin.xadd(key, '*', 'e', JSON.stringify({ v: 1, id: 'x' }));
    await admin.xadd(
      key,
      '*',
      'e',
      JSON.stringify({
        v: 1,
        id: 'ok-1',
        type: 't',
        target: { kind: 'group', name: 'room:1' },
        method: 'ReceiveMessage',
        args: ['fine'],
        ts: Date.now(),
        volatile: false,
      }),
    );
    await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([['fine']]));
    expect(await metricValue(GATEWAY_METRIC.invalidEnvelopes, { transport: 'redis-streams' })).toBe(3);
    expect(gw.app.get(GatewayHealthIndicator).isHealthy().realtime_gateway.status).toBe('up');
  });
});
