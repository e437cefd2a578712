import { Test } from '@nestjs/testing';
import { RealtimeEvent, RealtimePublisher, RealtimeTransportModule, toUser } from '@realtime-streams/transport';
import { FallbackChain, InProcessSinkRegistry, type OutboundEnvelope } from '@realtime-streams/transport/testing';
import { register, Registry } from 'prom-client';

@RealtimeEvent({ method: 'Notify', to: (e: Pinged) => toUser(e.userId) })
class Pinged {
  constructor(
    readonly userId: string,
    readonly seq: number,
  ) {}
}

/** An application that imports the transport module alone: no CqrsModule, no terminus, no Prometheus module. */
async function bareApp(options: Parameters<typeof RealtimeTransportModule.forRoot>[0]) {
  const moduleRef = await Test.createTestingModule({ imports: [RealtimeTransportModule.forRoot(options)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const received: OutboundEnvelope[] = [];
  app.get(InProcessSinkRegistry).register((batch) => void received.push(...batch));
  await app.init();
  return { app, received };
}

describe('the transport module without optional integrations', () => {
  afterEach(() => register.clear());

  it('starts without CqrsModule and publishes through RealtimePublisher.publish()', async () => {
    const { app, received } = await bareApp({ inProcess: true });
    const publisher = app.get(RealtimePublisher);
    for (let seq = 0; seq < 5; seq++) publisher.publish(new Pinged('u1', seq));
    await app.get(FallbackChain).whenIdle();
    expect(received.map((o) => (o.envelope.args[0] as Pinged).seq)).toEqual([0, 1, 2, 3, 4]);
    await app.close();
  });

  it('puts its metrics in the registry it is given, and none in the global one', async () => {
    const registry = new Registry();
    const { app } = await bareApp({ inProcess: true, metrics: { registry } });
    app.get(RealtimePublisher).publish(new Pinged('u1', 1));
    await app.get(FallbackChain).whenIdle();
    const text = await registry.metrics();
    expect(text).toMatch(/realtime_published_envelopes_total\{transport="in-process",outcome="success"\} 1/);
    expect(register.getSingleMetric('realtime_published_envelopes_total')).toBeUndefined();
    await app.close();
  });

  it('registers no metric at all with metrics: false', async () => {
    const { app } = await bareApp({ inProcess: true, metrics: false });
    app.get(RealtimePublisher).publish(new Pinged('u1', 1));
    await app.get(FallbackChain).whenIdle();
    expect(register.getMetricsAsArray()).toHaveLength(0);
    await app.close();
  });

  it('installs no SIGHUP handler unless an env file to reload is named', async () => {
    const before = process.listenerCount('SIGHUP');
    const bare = await bareApp({ inProcess: true });
    expect(process.listenerCount('SIGHUP')).toBe(before);
    await bare.app.close();
    const reloading = await bareApp({ inProcess: true, reloadEnvFile: '.env' });
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    await reloading.app.close();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
