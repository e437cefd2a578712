import { ConfigModule } from '@nestjs/config';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  InvalidRealtimeConfigError,
  realtimeConfig,
  type RealtimeConfig,
  RealtimeEvent,
  RealtimeSettings,
  RealtimeTransportModule,
  toUser,
} from '@realtime-streams/transport';
import { FallbackChain, InProcessSinkRegistry, type OutboundEnvelope } from '@realtime-streams/transport/testing';
import { streamKey } from '@realtime-streams/contracts';
import { register } from 'prom-client';
import { BridgeReceiver } from '../support/bridge-receiver';
import { RedisServer } from '../support/redis-server';
import { readStream } from '../support/stream-reader';

@RealtimeEvent({ method: 'Notify', to: (e: Notified) => toUser(e.userId) })
class Notified {
  constructor(
    readonly userId: string,
    readonly seq: number,
  ) {}
}

/** Boots the module the way an application does: ConfigModule + realtimeConfig + forRootAsync. */
function bootFromEnv(env: Record<string, string>): Promise<TestingModule> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  register.clear();
  return Test.createTestingModule({
    imports: [
      CqrsModule.forRoot(),
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [realtimeConfig] }),
      RealtimeTransportModule.forRootAsync({
        imports: [ConfigModule.forFeature(realtimeConfig)],
        inject: [realtimeConfig.KEY],
        useFactory: (config: RealtimeConfig) => config,
      }),
    ],
  })
    .compile()
    .then(async (app) => {
      await app.init();
      return app;
    })
    .finally(() => {
      for (const key of Object.keys(env)) delete process.env[key];
      Object.assign(process.env, saved);
    });
}

describe('publisher module wiring', () => {
  let redis: RedisServer;
  let bridge: BridgeReceiver;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await new BridgeReceiver('s').start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await bridge.close();
    await redis.dispose();
  });

  it('stops start-up on a bad environment value, naming the variable', async () => {
    const boot = bootFromEnv({ REDIS_URL: redis.url, REALTIME_REDIS_STREAMS_PERCENTAGE: '150' });
    await expect(boot).rejects.toThrow(InvalidRealtimeConfigError);
    await expect(bootFromEnv({ REALTIME_HTTP_BRIDGE_URL: 'not a url' })).rejects.toThrow(
      /REALTIME_HTTP_BRIDGE_URL \(httpBridge.urls\) must be a URL/,
    );
  });

  it('reads its flags from the environment through realtimeConfig', async () => {
    app = await bootFromEnv({
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: bridge.url,
      REALTIME_REDIS_STREAMS_PERCENTAGE: '40',
      REALTIME_DUAL_WRITE: 'false',
    });
    expect(app.get(RealtimeSettings).flags).toEqual({
      useRedisStreams: true,
      redisStreamsPercentage: 40,
      fallbackToHttp: true,
      dualWrite: false,
    });
  });

  it('writes every envelope to both transports with the same id under dual write', async () => {
    app = await bootFromEnv({
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: bridge.url,
      REALTIME_BRIDGE_SECRET: 's',
      REALTIME_DUAL_WRITE: 'true',
      REALTIME_STREAM_KEY_PREFIX: 'dual',
    });
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 100; seq++) bus.publish(new Notified(`u${seq % 3}`, seq));
    await app.get(FallbackChain).whenIdle();
    const client = redis.client();
    const inStream = (await readStream(client, streamKey('dual', 0))).map((e) => e.id);
    client.disconnect();
    expect(inStream).toHaveLength(100);
    expect(bridge.ids()).toEqual(inStream);
  });

  it('delivers to the in-process sink when configured so', async () => {
    register.clear();
    app = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ inProcess: true })],
    }).compile();
    const received: OutboundEnvelope[] = [];
    app.get(InProcessSinkRegistry).register((batch) => void received.push(...batch));
    await app.init();
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 10; seq++) bus.publish(new Notified('u1', seq));
    await app.get(FallbackChain).whenIdle();
    expect(received.map((o) => (o.envelope.args[0] as Notified).seq)).toEqual([...Array(10).keys()]);
    expect(received[0].envelope.target).toEqual({ kind: 'user', id: 'u1' });
  });

  it('never makes EventBus.publish wait while Redis does not answer', async () => {
    app = await bootFromEnv({
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: bridge.url,
      REALTIME_BRIDGE_SECRET: 's',
    });
    const bus = app.get(EventBus);
    redis.pause();
    try {
      const started = performance.now();
      for (let seq = 0; seq < 2000; seq++) bus.publish(new Notified('u1', seq));
      // Loose sanity bound: mapping 2,000 events takes milliseconds (more on a loaded 2-core machine); waiting on Redis would block for good.
      expect(performance.now() - started).toBeLessThan(2000);
      await app.get(FallbackChain).whenIdle();
    } finally {
      redis.resume();
    }
  });
});
