import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';

// Stateful reconnect is a WebSockets feature whatever the hub protocol: a MessagePack session is numbered, kept
// and resent in MessagePack frames.
describe('stateful reconnect with the MessagePack protocol (stock client, sockets cut by a proxy)', () => {
  let gw: GatewayApp;
  let proxy: FirstLiveProxy;

  beforeAll(async () => {
    gw = await startGatewayApp({ statefulReconnect: { windowMs: 10_000 } });
    proxy = await FirstLiveProxy.start([(gw.app.getHttpServer().address() as AddressInfo).port]);
  });

  afterAll(async () => {
    await proxy.close();
    await gw.close();
  });

  it('resumes after cuts mid-flow: every message once, in order, no new connection', async () => {
    const client = await new TestClient(`${proxy.url}/hubs/chat`, tokenFor('carol'), {
      protocol: 'messagepack',
      statefulReconnect: true,
    }).start();
    let reconnects = 0;
    client.connection.onreconnecting(() => reconnects++);
    await client.connection.invoke('JoinGroup', 'flow');
    const connectionId = client.connection.connectionId;
    const total = 60;
    for (let n = 1; n <= total; n++) {
      await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'flow' }, [{ n }])]);
      if (n % 20 === 10) proxy.cutAll();
      await sleep(5);
    }
    await eventually(() => expect(client.of('ReceiveMessage').length).toBeGreaterThanOrEqual(total), 10_000);
    await sleep(200);
    const received = client.of('ReceiveMessage').map((args) => (args[0] as { n: number }).n);
    const unique = new Set(received);
    const report = {
      lost: total - unique.size,
      duplicated: received.length - unique.size,
      outOfOrder: received.filter((n, i) => i > 0 && n < received[i - 1]).length,
      reconnects,
    };
    // eslint-disable-next-line no-console -- the counts are the result (lost, duplicated, out of order)
    console.log(`messagepack stateful: ${JSON.stringify(report)}`);
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each cut was a resume of the session...
    const resumed = await register.getSingleMetric('realtime_hub_sessions_resumed_total')!.get();
    expect(resumed.values.reduce((sum, v) => sum + v.value, 0)).toBe(3);
    // ...not a reconnect: the same connection, and the automatic-reconnect path was never taken.
    expect(client.connection.connectionId).toBe(connectionId);
    expect(client.connection.state).toBe('Connected');
    await client.stop();
  });
});
