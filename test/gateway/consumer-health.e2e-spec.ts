import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import { HEALTH_GRACE_MS } from '@realtime-streams/gateway/testing';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { type GatewayApp, startGatewayApp } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { sleep } from './support';

const BLOCK_MS = 200;

/**
 * Finding: the consumer stayed "up" while it had not read for 7 s during a Redis freeze, and one that failed every
 * read showed "running" (its back-off wait counted as a beat). Health is now computed on request from what the
 * loop last did.
 */
describe('stream consumer health (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp | undefined;

  const start = async () => {
    gw = await startGatewayApp({
      instanceId: 'health',
      redis: { url: redis.url, interestRouting: false, blockMs: BLOCK_MS, monitorIntervalMs: 200 },
    });
    return gw.app.get(GatewayHealthIndicator);
  };

  beforeEach(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
  });

  afterEach(async () => {
    redis.resume();
    await gw?.close();
    gw = undefined;
    admin.disconnect();
    await redis.dispose();
  });

  it('reports the consumer failing within BLOCK + grace of a Redis freeze, and running once it reads again', async () => {
    const health = await start();
    await eventually(() =>
      expect(health.isHealthy().realtime_gateway).toMatchObject({ status: 'up', consumer: 'running' }),
    );
    await sleep(300); // in the middle of a blocking read

    redis.pause();
    const pausedAt = Date.now();
    let down: Record<string, unknown> | undefined;
    while (Date.now() - pausedAt < 5000) {
      const now = health.isHealthy().realtime_gateway;
      if (now.consumer === 'failing') {
        down = now;
        break;
      }
      await sleep(20);
    }
    const afterMs = Date.now() - pausedAt;
    // eslint-disable-next-line no-console
    console.log(
      `Redis SIGSTOP, BLOCK ${BLOCK_MS} ms: consumer reported failing after ${afterMs} ms (${String(down?.lastError)})`,
    );
    // This gateway has a bridge receiver: degraded, not down (it still delivers what the fallback sends it).
    expect(down).toMatchObject({
      status: 'up',
      degraded: true,
      consumer: 'failing',
      lastError: expect.stringContaining('XREADGROUP'),
    });
    expect(afterMs).toBeLessThanOrEqual(BLOCK_MS + HEALTH_GRACE_MS + 400);
    expect(down!.lastReadMsAgo as number).toBeGreaterThan(BLOCK_MS);

    redis.resume();
    await eventually(
      () => expect(health.isHealthy().realtime_gateway).toMatchObject({ status: 'up', consumer: 'running' }),
      10_000,
    );
    expect(health.isHealthy().realtime_gateway).not.toHaveProperty('lastError');
  });

  it('reports a consumer whose reads fail every time as failing with the error, not running, until they succeed', async () => {
    // A stream key holding a string: XGROUP and XREADGROUP fail with WRONGTYPE on every attempt.
    await admin.set(streamKey('realtime', 0), 'not a stream');
    const health = await start();
    // Through several back-off waits (100, 200, 400, 800 ms ...): failing at every look, never "running".
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const now = health.isHealthy().realtime_gateway;
      seen.add(`${now.status}/${now.consumer}`);
      expect(now).toMatchObject({
        status: 'up',
        degraded: true,
        consumer: 'failing',
        lastError: expect.stringContaining('WRONGTYPE'),
      });
      await sleep(100);
    }
    expect([...seen]).toEqual(['up/failing']);

    await admin.del(streamKey('realtime', 0));
    await eventually(
      () => expect(health.isHealthy().realtime_gateway).toMatchObject({ status: 'up', consumer: 'running' }),
      10_000,
    );
  });

  it("reports a failing consumer down when the stream is the gateway's only input (no bridge receiver)", async () => {
    await admin.set(streamKey('realtime', 0), 'not a stream');
    gw = await startGatewayApp({
      instanceId: 'health',
      bridge: undefined,
      redis: { url: redis.url, interestRouting: false, blockMs: BLOCK_MS },
    });
    const health = gw.app.get(GatewayHealthIndicator);
    await eventually(() =>
      expect(health.isHealthy().realtime_gateway).toMatchObject({
        status: 'down',
        consumer: 'failing',
        lastError: expect.stringContaining('WRONGTYPE'),
      }),
    );
  });
});
