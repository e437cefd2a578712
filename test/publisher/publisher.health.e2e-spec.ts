import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  RealtimeEvent,
  RealtimeTransportModule,
  RedisHealthIndicator,
  toGroup,
  TransportChainHealthIndicator,
} from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import { streamKey } from '@realtime-streams/contracts';
import { register } from 'prom-client';
import { BridgeReceiver } from '../support/bridge-receiver';
import { RedisServer } from '../support/redis-server';
import { eventually, readStream } from '../support/stream-reader';

@RealtimeEvent({ method: 'ReceiveMessage', to: (e: Numbered) => toGroup(`room:${e.seq % 5}`) })
class Numbered {
  constructor(readonly seq: number) {}
}

describe('publisher health and degraded modes (real redis-server, real HTTP receiver)', () => {
  let redis: RedisServer;
  let bridge: BridgeReceiver;
  let app: TestingModule;

  const boot = async () => {
    register.clear();
    app = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        RealtimeTransportModule.forRoot({
          redis: { url: redis.url },
          httpBridge: { urls: [bridge.url] },
          probeIntervalMs: 100,
          probeTimeoutMs: 200,
          publishTimeoutMs: 300,
          breaker: { failureThreshold: 2, openMs: 200 },
        }),
      ],
    }).compile();
    await app.init();
  };

  beforeEach(async () => {
    redis = await RedisServer.start();
    bridge = await new BridgeReceiver().start();
  });

  afterEach(async () => {
    await app?.close();
    await bridge.close();
    await redis.dispose();
  });

  it('starts without Redis, carries events over the bridge, reports degraded, and moves to Redis when it appears', async () => {
    await redis.stop();
    await boot();
    const chain = app.get(FallbackChain);
    const health = app.get(TransportChainHealthIndicator);
    const redisHealth = app.get(RedisHealthIndicator);
    const bus = app.get(EventBus);

    for (let seq = 0; seq < 20; seq++) bus.publish(new Numbered(seq));
    await chain.whenIdle();
    expect(bridge.envelopes).toHaveLength(20);
    expect(chain.activeTransport).toBe('http-bridge');
    expect(health.isAvailable()).toMatchObject({
      realtime_transport: { status: 'up', active: 'http-bridge', preferred: 'redis-streams', degraded: true },
    });
    expect((await redisHealth.isHealthy()).redis.status).toBe('down');
    expect(await register.getSingleMetricAsString('realtime_breaker_state')).toContain(
      'realtime_breaker_state{transport="redis-streams"} 2',
    );

    await redis.start();
    await eventually(() => expect(chain.activeTransport).toBe('redis-streams'), 10_000);
    for (let seq = 20; seq < 30; seq++) bus.publish(new Numbered(seq));
    await chain.whenIdle();
    const client = redis.client();
    expect(await readStream(client, streamKey('realtime', 0))).toHaveLength(10);
    client.disconnect();
    expect(health.isAvailable().realtime_transport).toMatchObject({ status: 'up', degraded: false });
    expect((await redisHealth.isHealthy()).redis.status).toBe('up');
    expect(await register.getSingleMetricAsString('realtime_fallback_switches_total')).toContain(
      'realtime_fallback_switches_total{from="http-bridge",to="redis-streams"} 1',
    );
  });

  it('moves to the bridge when Redis stops answering (SIGSTOP) and back when it resumes', async () => {
    await boot();
    const chain = app.get(FallbackChain);
    const bus = app.get(EventBus);
    redis.pause();
    for (let seq = 0; seq < 10; seq++) bus.publish(new Numbered(seq));
    await chain.whenIdle();
    expect(bridge.envelopes).toHaveLength(10);
    await eventually(() => expect(chain.activeTransport).toBe('http-bridge'));
    expect((await app.get(RedisHealthIndicator).isHealthy('redis', 100)).redis.status).toBe('down');

    redis.resume();
    await eventually(() => expect(chain.activeTransport).toBe('redis-streams'), 10_000);
  });

  it('reports down and keeps envelopes while no transport works, then drains them in order', async () => {
    await boot();
    const chain = app.get(FallbackChain);
    const health = app.get(TransportChainHealthIndicator);
    const bus = app.get(EventBus);
    await redis.kill();
    bridge.failWith = 503;
    bridge.healthy = false;
    for (let seq = 0; seq < 50; seq++) bus.publish(new Numbered(seq));
    await eventually(() => expect(chain.activeTransport).toBe('none'));
    expect(health.isAvailable().realtime_transport.status).toBe('down');
    expect(chain.pendingCount).toBe(50);

    bridge.failWith = undefined;
    bridge.healthy = true;
    await eventually(() => expect(chain.pendingCount).toBe(0), 10_000);
    const seqs = bridge.envelopes.map((e) => (e.args[0] as Numbered).seq);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(health.isAvailable().realtime_transport.status).toBe('up');
  });

  it('flushes waiting envelopes on shutdown when a transport comes back within the deadline', async () => {
    await boot();
    const bus = app.get(EventBus);
    bridge.failWith = 503;
    bridge.healthy = false;
    await redis.kill();
    for (let seq = 0; seq < 5; seq++) bus.publish(new Numbered(seq));
    await eventually(() => expect(app.get(FallbackChain).activeTransport).toBe('none'));
    setTimeout(() => {
      bridge.failWith = undefined;
      bridge.healthy = true;
    }, 300);
    await app.close();
    expect(bridge.envelopes).toHaveLength(5);
  });
});
