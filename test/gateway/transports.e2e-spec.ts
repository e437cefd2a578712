import { HttpTransportType } from '@microsoft/signalr';
import { HubMethodError } from '@realtime-streams/gateway';
import { HubServer } from '@realtime-streams/gateway/testing';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { type HubProtocolChoice, TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge } from './support';

/** The five combinations a stock client may end up with, each forced. */
const COMBINATIONS: Array<[HubProtocolChoice, keyof typeof HttpTransportType]> = [
  ['json', 'WebSockets'],
  ['messagepack', 'WebSockets'],
  ['json', 'ServerSentEvents'],
  ['json', 'LongPolling'],
  ['messagepack', 'LongPolling'],
];

/** Open connections by protocol and transport, as `realtime_hub_connections` reports them. */
async function connectionsByKind(): Promise<Record<string, number>> {
  const metric = await register.getSingleMetric('realtime_hub_connections')!.get();
  return Object.fromEntries(
    metric.values.filter((v) => v.value > 0).map((v) => [`${v.labels.protocol}/${v.labels.transport}`, v.value]),
  );
}

describe('every hub protocol over every transport, with stock clients', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    gw = await startGatewayApp({
      hub: {
        // A short poll timeout, so the long-polling clients also go through empty polls.
        longPollTimeoutMs: 1000,
        methods: {
          Echo: (_context, value: unknown) => value,
          Fail: () => {
            throw new HubMethodError('Failing on purpose.');
          },
        },
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop().catch(() => undefined)));
    await gw.close();
  });

  function client(user: string, protocol: HubProtocolChoice, transport: keyof typeof HttpTransportType) {
    const created = new TestClient(gw.hubUrl, () => tokenFor(user), {
      protocol,
      transport: HttpTransportType[transport],
      reconnect: true,
    });
    clients.push(created);
    return created;
  }

  it.each(COMBINATIONS)(
    '%s over %s: connects, joins, receives, completes invocations, rejects an unknown method and reconnects',
    async (protocol, transport) => {
      const user = `${protocol}-${transport}`;
      const alice = await client(user, protocol, transport).start();
      expect(await connectionsByKind()).toMatchObject({ [`${protocol}/${transport}`]: 1 });

      await alice.connection.invoke('JoinGroup', `room-${user}`);
      const args = [{ text: 'héllo', n: 1, nested: { list: [1, 2.5, null, true] } }];
      await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: `room-${user}` }, args)]);
      await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([args]));

      // A completion with a result, an error from the method, an unknown method: the connection stays up.
      expect(await alice.connection.invoke('Echo', { a: [1, 'two'] })).toEqual({ a: [1, 'two'] });
      await expect(alice.connection.invoke('Fail')).rejects.toThrow('Failing on purpose.');
      await expect(alice.connection.invoke('NoSuchMethod')).rejects.toThrow("Method 'NoSuchMethod' does not exist.");
      expect(alice.connection.state).toBe('Connected');
      expect(await alice.connection.invoke('Echo', 'still here')).toBe('still here');

      // The server closes every connection with a reconnectable close message: the client comes back by itself.
      const firstId = alice.connection.connectionId;
      gw.app.get(HubServer).closeAllConnections('Reconnect, please.');
      await eventually(() => {
        expect(alice.connection.state).toBe('Connected');
        expect(alice.connection.connectionId).not.toBe(firstId);
      }, 10_000);
      await alice.connection.invoke('JoinGroup', `room-${user}`);
      await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: `room-${user}` }, ['after'])]);
      await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([args, ['after']]));
      await alice.stop();
      await eventually(async () => expect((await connectionsByKind())[`${protocol}/${transport}`]).toBeUndefined());
    },
  );

  it('one group with a member of each kind: all five receive the same 20 events once, in order', async () => {
    const members = await Promise.all(
      COMBINATIONS.map(([protocol, transport]) =>
        client(`member-${protocol}-${transport}`, protocol, transport).start(),
      ),
    );
    await Promise.all(members.map((member) => member.connection.invoke('JoinGroup', 'mixed')));
    for (let n = 1; n <= 20; n++) {
      // Some in batches of several, as the bridge and the stream consumer deliver them.
      if (n % 4 === 0) continue;
      const batch = [envelope({ kind: 'group', name: 'mixed' }, [{ n }])];
      if (n % 4 === 3) batch.push(envelope({ kind: 'group', name: 'mixed' }, [{ n: n + 1 }]));
      expect((await postBridge(gw.bridgeUrl, batch)).status).toBe(200);
    }
    const expected = Array.from({ length: 20 }, (_, i) => [{ n: i + 1 }]);
    for (const member of members) await eventually(() => expect(member.of('ReceiveMessage')).toHaveLength(20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const report = members.map((member, i) => ({
      kind: COMBINATIONS[i].join('/'),
      ...countByMessage(
        member.of('ReceiveMessage').map((args) => (args[0] as { n: number }).n),
        20,
      ),
    }));
    // eslint-disable-next-line no-console -- the counts are the result (lost, duplicated, out of order)
    console.log(`per client: ${JSON.stringify(report)}`);
    for (const member of members) expect(member.of('ReceiveMessage')).toEqual(expected);
    expect(await connectionsByKind()).toMatchObject({
      'json/WebSockets': 1,
      'messagepack/WebSockets': 1,
      'json/ServerSentEvents': 1,
      'json/LongPolling': 1,
      'messagepack/LongPolling': 1,
    });
    // Each envelope was encoded once per protocol: both protocols' frame counters moved by 20 x their members.
    const frames = await register.getSingleMetric('realtime_hub_invocation_frames_total')!.get();
    const byProtocol = Object.fromEntries(frames.values.map((v) => [v.labels.protocol, v.value]));
    expect(byProtocol.json).toBeGreaterThanOrEqual(60);
    expect(byProtocol.messagepack).toBeGreaterThanOrEqual(40);
    await Promise.all(members.map((member) => member.stop()));
  });
});

/** Lost, duplicated and out-of-order messages among `received`, numbered 1..count. */
function countByMessage(received: number[], count: number) {
  const seen = new Set<number>();
  let duplicated = 0;
  let outOfOrder = 0;
  let last = 0;
  for (const n of received) {
    if (seen.has(n)) duplicated++;
    else if (n < last) outOfOrder++;
    seen.add(n);
    last = Math.max(last, n);
  }
  let lost = 0;
  for (let n = 1; n <= count; n++) if (!seen.has(n)) lost++;
  return { lost, duplicated, outOfOrder };
}

describe('hub.transports narrows what negotiate offers', () => {
  let gw: GatewayApp;

  beforeAll(async () => {
    gw = await startGatewayApp({ hub: { transports: ['LongPolling'] } });
  });

  afterAll(async () => {
    await gw.close();
  });

  it('lists only LongPolling, refuses an event stream, and a stock client falls back to long polling', async () => {
    const token = tokenFor('narrow');
    const negotiate = await fetch(`${gw.hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await negotiate.json()) as { availableTransports: unknown; connectionToken: string };
    expect(body.availableTransports).toEqual([{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }]);
    const stream = await fetch(`${gw.hubUrl}?id=${body.connectionToken}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect([stream.status, await stream.text()]).toEqual([404, 'ServerSentEvents is not offered']);

    // No transport forced: the client takes what negotiate offers.
    const client = await new TestClient(gw.hubUrl, token, { protocol: 'messagepack' }).start();
    expect(await connectionsByKind()).toEqual({ 'messagepack/LongPolling': 1 });
    await client.connection.invoke('JoinGroup', 'narrow');
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'narrow' }, ['polled'])]);
    await eventually(() => expect(client.of('ReceiveMessage')).toEqual([['polled']]));
    await client.stop();
  });
});
