import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';

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

  it('answers the publisher health probe and refuses other methods', async () => {
    expect((await fetch(`${gw.bridgeUrl}/health`)).status).toBe(200);
    expect((await fetch(gw.bridgeUrl)).status).toBe(405);
  });
});
