import { EventBus } from '@nestjs/cqrs';
import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import {
  RealtimeEvent,
  RedisHealthIndicator,
  toGroup,
  toUser,
  TransportChainHealthIndicator,
} from '@realtime-streams/transport';
import { HealthProber } from '@realtime-streams/transport/testing';
import { startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

@RealtimeEvent({ method: 'ReceiveMessage', to: (e: Posted) => toGroup(`room:${e.room}`) })
class Posted {
  constructor(
    readonly room: string,
    readonly text: string,
  ) {}
}

@RealtimeEvent({ method: 'Notify', to: (e: Nudged) => toUser(e.user) })
class Nudged {
  constructor(readonly user: string) {}
}

it('delivers through the in-process transport when publisher and gateway share a process', async () => {
  const gw = await startGatewayApp({ redis: undefined, bridge: undefined }, { inProcess: true });
  const alice = await new TestClient(gw.hubUrl, tokenFor('alice')).start();
  try {
    await alice.connection.invoke('JoinGroup', 'room:1');
    const bus = gw.app.get(EventBus);
    bus.publish(new Posted('1', 'hello'));
    bus.publish(new Posted('2', 'elsewhere'));
    bus.publish(new Nudged('alice'));
    await eventually(() => {
      expect(alice.of('ReceiveMessage')).toEqual([[{ room: '1', text: 'hello' }]]);
      expect(alice.of('Notify')).toEqual([[{ user: 'alice' }]]);
    });
  } finally {
    await alice.stop();
    await gw.close();
  }
});

it('reports a healthy in-process start as healthy from its first probe, and Redis as not used rather than down', async () => {
  const gw = await startGatewayApp({ redis: undefined, bridge: undefined }, { transport: 'in-process' });
  try {
    // The first probe starts with the publisher, before the gateway (started after it) registered its sink.
    const prober = gw.app.get(HealthProber);
    await eventually(() => expect(prober.lastResult('in-process')).toBeDefined());
    const chain = gw.app.get(TransportChainHealthIndicator).isAvailable().realtime_transport;
    expect(chain).toMatchObject({ status: 'up', active: 'in-process', degraded: false, failing: [] });
    expect((await gw.app.get(RedisHealthIndicator).isHealthy()).redis).toEqual({
      status: 'up',
      used: false,
      transport: 'in-process',
    });
    expect((await gw.app.get(GatewayHealthIndicator).isRedisHealthy()).redis).toEqual({ status: 'up', used: false });
  } finally {
    await gw.close();
  }
});
