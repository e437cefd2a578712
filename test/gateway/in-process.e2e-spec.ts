import { EventBus } from '@nestjs/cqrs';
import { RealtimeEvent, toGroup, toUser } from '@realtime-streams/transport';
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
