import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import { RealtimeTransportModule } from '@realtime-streams/transport';
import { type GatewayApp, RecordingLogger, startGatewayApp } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { sleep } from './support';

const MONITOR_INTERVAL_MS = 200;
const MISMATCH =
  /^Publishers on this Redis write layout prefix=rt shards=16; this gateway reads prefix=realtime shards=8: nothing they publish reaches its clients\. Set REALTIME_STREAM_KEY_PREFIX \/ REALTIME_STREAM_SHARDS alike on both\.$/;

/**
 * Finding: a publisher and a gateway on the same Redis with different stream prefixes or shard counts delivered
 * nothing and said nothing. Both now announce their layout in `realtime-streams:layouts`; the gateway compares.
 */
describe('publisher and gateway stream layouts (real redis-server)', () => {
  let redis: RedisServer;
  let gw: GatewayApp | undefined;
  let logger: RecordingLogger;
  const publishers: TestingModule[] = [];

  /** A publisher-only application writing `layout` to this Redis. */
  const startPublisher = async (layout: { streamKeyPrefix: string; shards: number }) => {
    // The same logger as the gateway's: compiling a testing module replaces Nest's global one.
    const app = await Test.createTestingModule({
      imports: [RealtimeTransportModule.forRoot({ redis: { url: redis.url, ...layout }, metrics: false })],
    })
      .setLogger(logger)
      .compile();
    await app.init();
    publishers.push(app);
  };

  const startGateway = async () => {
    gw = await startGatewayApp(
      {
        instanceId: 'layout',
        redis: { url: redis.url, streamKeyPrefix: 'realtime', shards: 8, monitorIntervalMs: MONITOR_INTERVAL_MS },
      },
      undefined,
      { logger },
    );
    return gw.app.get(GatewayHealthIndicator);
  };
  const layoutErrors = () => logger.at('error').filter((line) => line.message.startsWith('Publishers on this Redis'));

  beforeEach(async () => {
    redis = await RedisServer.start();
    logger = new RecordingLogger();
  });

  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    for (const app of publishers.splice(0)) await app.close();
    await redis.dispose();
  });

  it('reports a publisher writing another prefix and shard count within 10 s: health degraded, one error', async () => {
    const health = await startGateway();
    const started = Date.now();
    await startPublisher({ streamKeyPrefix: 'rt', shards: 16 });
    await eventually(() => {
      expect(health.isHealthy().realtime_gateway).toMatchObject({
        status: 'up',
        degraded: true,
        streamLayoutMismatch: expect.stringMatching(MISMATCH),
      });
    }, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(layoutErrors().map((line) => line.message)).toEqual([expect.stringMatching(MISMATCH)]);

    // Said once, not on every check.
    await sleep(5 * MONITOR_INTERVAL_MS);
    expect(layoutErrors()).toHaveLength(1);

    // A publisher of this gateway's layout appears: nothing wrong any more.
    await startPublisher({ streamKeyPrefix: 'realtime', shards: 8 });
    await eventually(() => expect(health.isHealthy().realtime_gateway).not.toHaveProperty('streamLayoutMismatch'));
    expect(health.isHealthy().realtime_gateway).not.toHaveProperty('degraded');
    expect(logger.at('log').some((line) => line.message.startsWith('Stream layouts agree again'))).toBe(true);
  });

  it('says nothing when a publisher writes its layout, even beside one of another application', async () => {
    await startPublisher({ streamKeyPrefix: 'realtime', shards: 8 });
    await startPublisher({ streamKeyPrefix: 'other-app', shards: 4 });
    const health = await startGateway();
    const admin = redis.client();
    try {
      // Both publishers and this gateway announced, and the gateway has judged them several times since.
      await eventually(async () =>
        expect(Object.keys(await admin.hgetall('realtime-streams:layouts'))).toHaveLength(3),
      );
      await sleep(5 * MONITOR_INTERVAL_MS);
    } finally {
      admin.disconnect();
    }
    expect(health.isHealthy().realtime_gateway).not.toHaveProperty('streamLayoutMismatch');
    expect(health.isHealthy().realtime_gateway).not.toHaveProperty('degraded');
    expect(layoutErrors()).toEqual([]);
  });
});
