import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, metric, postBridge, sleep } from './support';

describe('HTTP bridge receiver', () => {
  let gw: GatewayApp;
  let client: TestClient;

  beforeAll(async () => {
    gw = await startGatewayApp({ bridge: { secret: 'bridge-secret-2', maxBodyBytes: 4096 } });
    client = await new TestClient(gw.hubUrl, tokenFor('alice')).start();
  });

  afterAll(async () => {
    await client.stop();
    await gw.close();
  });

  it('delivers a valid batch and answers after dispatch', async () => {
    const batch = [envelope({ kind: 'user', id: 'alice' }, [1]), envelope({ kind: 'user', id: 'alice' }, [2])];
    expect(await postBridge(gw.bridgeUrl, batch, 'bridge-secret-2')).toEqual({
      status: 200,
      body: { accepted: 2, written: 2 },
    });
    await eventually(() => expect(client.of('ReceiveMessage')).toEqual([[1], [2]]));
  });

  it('refuses a missing or wrong secret with 401', async () => {
    expect((await postBridge(gw.bridgeUrl, [], 'wrong')).status).toBe(401);
    const response = await fetch(gw.bridgeUrl, { method: 'POST', body: '[]' });
    expect(response.status).toBe(401);
  });

  it('refuses a body over the limit with 413', async () => {
    const big = [envelope({ kind: 'all' }, ['x'.repeat(5000)])];
    const answer = await postBridge(gw.bridgeUrl, big, 'bridge-secret-2');
    expect(answer.status).toBe(413);
  });

  it.each([
    ['not JSON', '{oops', /body is not JSON/],
    ['not an array', JSON.stringify({ v: 1 }), /must be a JSON array/],
    [
      'an envelope with a bad target',
      JSON.stringify([envelope({ kind: 'all' }), envelope({ kind: 'room', name: 'x' })]),
      /envelope \[1\] \/target/,
    ],
    [
      'an envelope without id',
      JSON.stringify([{ ...envelope({ kind: 'all' }), id: undefined }]),
      /required property 'id'/,
    ],
  ])('refuses %s with 400 naming the problem, and delivers nothing of the batch', async (_name, body, error) => {
    const before = client.received.length;
    const answer = await postBridge(gw.bridgeUrl, body, 'bridge-secret-2');
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(error);
    await sleep(30);
    expect(client.received).toHaveLength(before);
  });

  it.each([
    ['gaveUp not an array', { envelopes: [], gaveUp: 'room' }, /gaveUp must be an array/, 'bad_report'],
    ['a bad target in gaveUp', { envelopes: [], gaveUp: [{ kind: 'room' }] }, /gaveUp\[0\] kind must be/, 'bad_report'],
    ['an unknown field', { envelopes: [], gaveup: [] }, /unknown field "gaveup"/, 'malformed'],
  ])('refuses a report with %s with 400, counted, and closes nobody', async (_name, body, error, reason) => {
    const before = await metric('realtime_bridge_refused_bodies_total', { reason });
    const answer = await postBridge(gw.bridgeUrl, body, 'bridge-secret-2');
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(error);
    expect(await metric('realtime_bridge_refused_bodies_total', { reason })).toBe(before + 1);
    expect(client.connection.state).toBe('Connected');
  });

  it('answers the publisher health probe and refuses other methods', async () => {
    expect((await fetch(`${gw.bridgeUrl}/health`)).status).toBe(200);
    expect((await fetch(gw.bridgeUrl)).status).toBe(405);
  });
});

describe('HTTP bridge receiver: a lane reports envelopes it gave up', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    gw = await startGatewayApp({ bridge: { secret: 'bridge-secret-3' } });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await gw.close();
  });

  const connect = async (user: string, group?: string) => {
    const client = await new TestClient(gw.hubUrl, tokenFor(user)).start();
    clients.push(client);
    if (group) await client.connection.invoke('JoinGroup', group);
    return client;
  };

  it("closes the targets' connections with the reconnectable missed-messages close, before the batch's envelopes", async () => {
    const [inRoom, sameUserElsewhere, named, bystander] = [
      await connect('alice', 'room:1'),
      await connect('alice', 'room:9'),
      await connect('bob'),
      await connect('carol', 'room:2'),
    ];
    const answer = await postBridge(
      gw.bridgeUrl,
      {
        envelopes: [
          envelope({ kind: 'group', name: 'room:1' }, ['after']),
          envelope({ kind: 'group', name: 'room:2' }, ['x']),
        ],
        gaveUp: [
          { kind: 'group', name: 'room:1' },
          { kind: 'user', id: 'bob' },
          { kind: 'group', name: 'room:1' },
        ],
      },
      'bridge-secret-3',
    );
    expect(answer).toEqual({ status: 200, body: { accepted: 2, written: 1, closed: 2 } });
    await eventually(() => {
      expect(inRoom.closed).toBe(true);
      expect(named.closed).toBe(true);
    });
    for (const told of [inRoom, named]) {
      expect(told.closedWith?.message).toMatch(/Some messages could not be delivered; reconnect and fetch/);
    }
    // Closed before the envelope for its room was delivered: it never saw past the hole.
    expect(inRoom.of('ReceiveMessage')).toEqual([]);
    expect(bystander.of('ReceiveMessage')).toEqual([['x']]);
    expect(sameUserElsewhere.connection.state).toBe('Connected');
    expect(bystander.connection.state).toBe('Connected');
    expect(await metric('realtime_bridge_gave_up_reports_total')).toBe(1);
    expect(await metric('realtime_bridge_gave_up_disconnects_total')).toBe(2);
  });

  it('closes every connection for "all"', async () => {
    const [a, b] = [await connect('alice', 'room:1'), await connect('bob')];
    const answer = await postBridge(gw.bridgeUrl, { envelopes: [], gaveUp: [{ kind: 'all' }] }, 'bridge-secret-3');
    expect(answer).toEqual({ status: 200, body: { accepted: 0, written: 0, closed: 2 } });
    await eventually(() => expect([a.closed, b.closed]).toEqual([true, true]));
  });
});
