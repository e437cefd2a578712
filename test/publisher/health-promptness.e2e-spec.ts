import { Controller, Get, Inject, type INestApplication, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import {
  RealtimeTransportModule,
  type RealtimeTransportOptions,
  RedisHealthIndicator,
  TransportChainHealthIndicator,
} from '@realtime-streams/transport';
import {
  FallbackChain,
  HealthProber,
  RESOLVED_REALTIME_OPTIONS,
  type ResolvedRealtimeTransportOptions,
} from '@realtime-streams/transport/testing';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { BridgeReceiver } from '../support/bridge-receiver';
import { TsChild } from '../support/child-process';
import { BRIDGE_SECRET } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';

/** `/health` the way the reference service builds it: the transport chain, then Redis reachability. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly transport: TransportChainHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    @Inject(RESOLVED_REALTIME_OPTIONS) private readonly options: ResolvedRealtimeTransportOptions,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    const withRedis = this.options.transports.includes('redis-streams');
    return this.health.check([
      () => this.transport.isAvailable(),
      ...(withRedis ? [() => this.redis.isHealthy()] : []),
    ]);
  }
}

interface HealthBody {
  status: string;
  details: {
    realtime_transport: { status: string; degraded: boolean; failing: Array<{ transport: string; error: string }> };
    redis?: { status: string; message?: string };
  };
}

/** GET /health; terminus answers 503 with the same body shape when a check is down. */
async function getHealth(baseUrl: string): Promise<{ body: HealthBody; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/health`);
  const body = (await response.json()) as HealthBody;
  return { body, ms: performance.now() - started };
}

/** Polls /health from `since` until `done(body)`; returns when that was first seen and the slowest answer. */
async function timeUntil(baseUrl: string, since: number, done: (body: HealthBody) => boolean, limitMs = 5000) {
  let slowest = 0;
  for (;;) {
    const { body, ms } = await getHealth(baseUrl);
    slowest = Math.max(slowest, ms);
    if (done(body)) return { afterMs: Date.now() - since, slowestMs: Math.round(slowest), body };
    if (Date.now() - since > limitMs) throw new Error(`not seen within ${limitMs} ms: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('prompt, truthful publisher health (real redis-server and gateway process, SIGSTOP)', () => {
  let app: INestApplication | undefined;
  let baseUrl: string;

  const boot = async (options: RealtimeTransportOptions) => {
    register.clear();
    @Module({
      imports: [CqrsModule.forRoot(), TerminusModule, RealtimeTransportModule.forRoot(options)],
      controllers: [HealthController],
    })
    class HealthTestModule {}
    const moduleRef = await Test.createTestingModule({ imports: [HealthTestModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  };

  /** Resolves right after a probe of `name` succeeded: the worst moment for a freeze to begin. */
  const afterFreshProbe = async (name: 'redis-streams' | 'http-bridge') => {
    const prober = app!.get(HealthProber);
    await eventually(() => expect(prober.lastResult(name)?.healthy).toBe(true));
    const last = prober.lastResult(name)!.at;
    await eventually(() => expect(prober.lastResult(name)!.at).toBeGreaterThan(last), 5000, 1);
  };

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('Redis freeze', () => {
    let redis: RedisServer;
    let bridge: BridgeReceiver;

    beforeEach(async () => {
      redis = await RedisServer.start();
      bridge = await new BridgeReceiver().start();
    });

    afterEach(async () => {
      redis.resume();
      await bridge.close();
      await redis.dispose();
    });

    it('/health shows it within 1.5 s at the default probe settings, then answers at once', async () => {
      await boot({ redis: { url: redis.url }, httpBridge: { urls: [bridge.url] } });
      const chain = app!.get(FallbackChain);
      await eventually(() => expect(chain.activeTransport).toBe('redis-streams'));
      expect((await getHealth(baseUrl)).body.details.realtime_transport).toMatchObject({ degraded: false });

      await afterFreshProbe('redis-streams');
      redis.pause();
      const frozenAt = Date.now();
      const redisDown = await timeUntil(baseUrl, frozenAt, (body) => body.details.redis?.status === 'down');
      const degraded = await timeUntil(baseUrl, frozenAt, (body) => body.details.realtime_transport.degraded);
      const quick = await getHealth(baseUrl);
      // eslint-disable-next-line no-console
      console.log(
        `Redis SIGSTOP, defaults (interval 1000 ms, timeout 500 ms), /health polled: redis down after ` +
          `${redisDown.afterMs} ms, transport degraded after ${degraded.afterMs} ms (breaker ` +
          `${chain.link('redis-streams')!.breaker.state}); /health then answers in ${Math.round(quick.ms)} ms`,
      );
      expect(redisDown.afterMs).toBeLessThan(1500);
      expect(degraded.afterMs).toBeLessThan(1500);
      expect(degraded.body.status).toBe('error');
      expect(degraded.body.details.realtime_transport).toMatchObject({
        status: 'up',
        degraded: true,
        failing: [{ transport: 'redis-streams', error: expect.stringMatching(/timed out after 500 ms/) }],
      });
      // Once a check has failed, /health no longer waits for a check that cannot answer (500 ms): a loose bound.
      expect(quick.ms).toBeLessThan(250);

      redis.resume();
      const healthy = await timeUntil(
        baseUrl,
        Date.now(),
        (body) => body.status === 'ok' && !body.details.realtime_transport.degraded,
        10_000,
      );
      expect(healthy.body.details.realtime_transport.failing).toEqual([]);
      expect(chain.activeTransport).toBe('redis-streams');
    });

    it('the periodic probe alone marks it degraded within one interval plus the probe timeout', async () => {
      // Default interval (1 s); a local Redis answers PING in well under 250 ms. Nobody calls /health here.
      await boot({ redis: { url: redis.url }, httpBridge: { urls: [bridge.url] }, probeTimeoutMs: 250 });
      const chain = app!.get(FallbackChain);
      const indicator = app!.get(TransportChainHealthIndicator);
      await eventually(() => expect(chain.activeTransport).toBe('redis-streams'));

      await afterFreshProbe('redis-streams');
      redis.pause();
      const frozenAt = Date.now();
      await eventually(() => expect(indicator.isAvailable().realtime_transport.degraded).toBe(true), 5000, 5);
      const afterMs = Date.now() - frozenAt;
      // eslint-disable-next-line no-console
      console.log(`Redis SIGSTOP right after a probe, timeout 250 ms: indicator degraded after ${afterMs} ms`);
      expect(afterMs).toBeLessThan(1500);
      expect(indicator.isAvailable().realtime_transport).toMatchObject({
        status: 'up',
        degraded: true,
        failing: [{ transport: 'redis-streams', error: expect.stringMatching(/timed out after 250 ms/) }],
      });
    });
  });

  describe('the only gateway behind the bridge freezes', () => {
    let gateway: TsChild;

    beforeEach(async () => {
      gateway = new TsChild('test/publisher/fixtures/bridge-gateway.process.ts', {});
    });

    afterEach(async () => {
      gateway.signal('SIGCONT');
      await gateway.stop();
    });

    it('reports down within 1.5 s, and up again once it answers', async () => {
      const { bridgeUrl } = await gateway.next('ready');
      await boot({ httpBridge: { urls: [bridgeUrl as string], secret: BRIDGE_SECRET }, probeTimeoutMs: 250 });
      await eventually(async () => expect((await getHealth(baseUrl)).body.status).toBe('ok'));

      await afterFreshProbe('http-bridge');
      gateway.signal('SIGSTOP');
      const frozenAt = Date.now();
      const down = await timeUntil(baseUrl, frozenAt, (body) => body.details.realtime_transport.status === 'down');
      // eslint-disable-next-line no-console
      console.log(`gateway SIGSTOP, bridge only: /health transport down after ${down.afterMs} ms`);
      expect(down.afterMs).toBeLessThan(1500);
      expect(down.body.details.realtime_transport).toMatchObject({
        degraded: true,
        failing: [{ transport: 'http-bridge', error: expect.stringMatching(/timed out after 250 ms/) }],
      });

      gateway.signal('SIGCONT');
      await timeUntil(baseUrl, Date.now(), (body) => body.details.realtime_transport.status === 'up', 10_000);
    });
  });
});
