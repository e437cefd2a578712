import { GATEWAY_METRIC } from '@realtime/gateway';
import { StreamConsumer } from '@realtime/gateway/stream/stream-consumer';
import { StreamMonitor } from '@realtime/gateway/stream/stream-monitor';
import { streamKey } from '@realtime/transport';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { sleep } from './support';

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
      redis: { url: redis.url, blockMs: 200, monitorIntervalMs: 60_000, groupMaxIdleMs: 300 },
    });
    // The consumer creates its group as it starts.
    await eventually(async () => expect(await admin.exists(key)).toBe(1));
  });

  afterEach(async () => {
    await gw.close();
    admin.disconnect();
    await redis.dispose();
  });

  it('counts entries trimmed before this gateway read them', async () => {
    await gw.app.get(StreamConsumer).stop();
    for (let i = 0; i < 100; i++) await admin.xadd(key, 'MAXLEN', '10', '*', 'e', '{}');
    await gw.app.get(StreamMonitor).check();
    const trimmed = (await register.getSingleMetric(GATEWAY_METRIC.trimmedUnread)?.get())?.values[0]?.value;
    expect(trimmed).toBe(90);
    // Counted once: the next check adds nothing new.
    await gw.app.get(StreamMonitor).check();
    expect((await register.getSingleMetric(GATEWAY_METRIC.trimmedUnread)?.get())?.values[0]?.value).toBe(90);
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
