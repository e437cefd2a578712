import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, metric, postBridge, sleep } from './support';

const HOLD_MS = 400;
const FIRST_HOLD_MS = 300;
const TOLD = 'Some messages could not be delivered; reconnect and fetch what you missed.';

/** The args of what a client received, in order. */
const numbersOf = (client: TestClient) => client.of('ReceiveMessage').map(([arg]) => (arg as { n: number }).n);

/**
 * Numbered envelopes (`seq`, a target's commit order) through a real gateway and stock clients: delivered in number
 * order whatever order they come in, and a target whose order cannot be kept has its clients told.
 */
describe('order per target (envelope seq) on a gateway', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];
  const member = async (user: string, group: string) => {
    const client = await new TestClient(gw.hubUrl, tokenFor(user)).start();
    await client.connection.invoke('JoinGroup', group);
    clients.push(client);
    return client;
  };
  const numbered = (group: string, seq: number) => envelope({ kind: 'group', name: group }, [{ n: seq }], { seq });

  beforeAll(async () => {
    gw = await startGatewayApp({ ordering: { holdMs: HOLD_MS, firstHoldMs: FIRST_HOLD_MS } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop().catch(() => undefined)));
    await gw.close();
  });

  it('delivers a group in number order when its envelopes come in another, one batch or several', async () => {
    const client = await member('alice', 'ordered');
    expect((await postBridge(gw.bridgeUrl, [numbered('ordered', 1)])).body).toMatchObject({ written: 1 });
    // 3 waits for 2; 2 releases it: the answer to the batch with 2 counts both.
    expect((await postBridge(gw.bridgeUrl, [numbered('ordered', 3)])).body).toMatchObject({ written: 0 });
    expect((await postBridge(gw.bridgeUrl, [numbered('ordered', 2)])).body).toMatchObject({ written: 2 });
    await postBridge(gw.bridgeUrl, [numbered('ordered', 6), numbered('ordered', 5), numbered('ordered', 4)]);
    await eventually(() => expect(numbersOf(client)).toEqual([1, 2, 3, 4, 5, 6]));
    expect(await metric('realtime_order_held_total')).toBe(3);
    expect(client.connection.state).toBe('Connected');
  });

  it("closes a group's clients (reconnectable) when a number is missing past the hold, and only them", async () => {
    const [victim, bystander] = [await member('bob', 'holey'), await member('carol', 'calm')];
    await postBridge(gw.bridgeUrl, [numbered('holey', 1), numbered('calm', 1)]);
    await eventually(() => expect(numbersOf(victim)).toEqual([1]));
    await postBridge(gw.bridgeUrl, [numbered('holey', 3)]);
    await sleep(HOLD_MS / 2);
    expect(victim.closed).toBe(false);
    await eventually(() => expect(victim.closed).toBe(true), 5000);
    expect(victim.closedWith?.message).toContain(TOLD);
    // Nothing after the hole went out: what the client last saw has no hole below it.
    expect(numbersOf(victim)).toEqual([1]);
    expect(await metric('realtime_order_given_up_total', { reason: 'timeout' })).toBe(1);
    expect(await metric('realtime_order_disconnects_total')).toBe(1);

    await postBridge(gw.bridgeUrl, [numbered('calm', 2)]);
    await eventually(() => expect(numbersOf(bystander)).toEqual([1, 2]));
    expect(bystander.connection.state).toBe('Connected');
  });

  it('holds the first number of a group new to it for an earlier one, then goes on from the lowest', async () => {
    const client = await member('dave', 'joined-late');
    await postBridge(gw.bridgeUrl, [numbered('joined-late', 41)]);
    await postBridge(gw.bridgeUrl, [numbered('joined-late', 40)]);
    await eventually(() => expect(numbersOf(client)).toEqual([40, 41]));
    await postBridge(gw.bridgeUrl, [numbered('joined-late', 42)]);
    await eventually(() => expect(numbersOf(client)).toEqual([40, 41, 42]));
  });

  it.each([
    ['zero', 0],
    ['negative', -3],
    ['a fraction', 1.5],
    ['text', '7'],
    ['past 2^53 - 1', 2 ** 53],
  ])('refuses a seq that is %s with 400 naming it', async (_name, seq) => {
    const answer = await postBridge(gw.bridgeUrl, [envelope({ kind: 'all' }, [{ n: 0 }], { seq })]);
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(/envelope \[0\] \/seq/);
  });
});
