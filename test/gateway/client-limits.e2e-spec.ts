import { signHs256Jwt } from '@realtime-streams/gateway';
import { register } from 'prom-client';
import { type GatewayApp, JWT_SECRET, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';

async function counted(metric: string, label: Record<string, string>): Promise<number> {
  const values = (await register.getSingleMetric(metric)?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(label).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('per-client limits with stock @microsoft/signalr clients', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];
  const connect = async (user: string, options?: ConstructorParameters<typeof TestClient>[2]) => {
    const client = new TestClient(gw.hubUrl, tokenFor(user), options);
    clients.push(client);
    return client.start();
  };

  beforeEach(async () => {
    gw = await startGatewayApp({
      hub: { methods: { Echo: (_context, value) => value } },
      limits: {
        invocationsPerSecond: 20,
        invocationBurst: 40,
        maxRefusedInvocations: 100,
        maxGroupsPerConnection: 5,
        maxConnectionsPerUser: 3,
      },
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await gw.close();
  });

  it('answers a burst past the rate with completion errors, keeps the connection, and serves it again later', async () => {
    const alice = await connect('alice');
    const outcomes = await Promise.allSettled(Array.from({ length: 70 }, (_, i) => alice.connection.invoke('Echo', i)));
    const accepted = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(accepted).toBeGreaterThanOrEqual(40);
    expect(accepted).toBeLessThan(60);
    expect(refused.length).toBe(70 - accepted);
    expect(String(refused[0].reason)).toMatch(/Too many invocations: at most 20 per second/);
    expect(alice.connection.state).toBe('Connected');
    expect(await counted('realtime_client_limit_hits_total', { limit: 'invocations' })).toBe(refused.length);
    await sleep(250);
    await expect(alice.connection.invoke('Echo', 'later')).resolves.toBe('later');
  });

  it('closes a connection that keeps invoking past its limit, without reconnect', async () => {
    const mallory = await connect('mallory', { reconnect: true });
    let reconnecting = false;
    mallory.connection.onreconnecting(() => (reconnecting = true));
    await Promise.allSettled(Array.from({ length: 300 }, () => mallory.connection.invoke('Echo', 'x')));
    await eventually(() => expect(mallory.closed).toBe(true));
    expect(mallory.closedWith?.message).toMatch(/more than 20 invocations per second, sustained/);
    expect(reconnecting).toBe(false);
    expect(await counted('realtime_client_limit_hits_total', { limit: 'invocations_close' })).toBe(1);
  });

  it('bounds the groups of one connection', async () => {
    const alice = await connect('alice');
    for (let i = 0; i < 5; i++) await alice.connection.invoke('JoinGroup', `g${i}`);
    await expect(alice.connection.invoke('JoinGroup', 'g5')).rejects.toThrow(/at most 5 groups: leave one first/);
    // Joining a group it is already in is no new group.
    await expect(alice.connection.invoke('JoinGroup', 'g0')).resolves.toBeUndefined();
    await alice.connection.invoke('LeaveGroup', 'g1');
    await expect(alice.connection.invoke('JoinGroup', 'g5')).resolves.toBeUndefined();
    expect(await counted('realtime_client_limit_hits_total', { limit: 'groups' })).toBe(1);
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'g5' }, [{ in: 'g5' }])]);
    await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[{ in: 'g5' }]]));
  });

  it('bounds the connections of one user, at negotiate and at a connect without negotiate', async () => {
    for (let i = 0; i < 3; i++) await connect('dave');
    await expect(connect('dave')).rejects.toThrow(/429|Too many connections/);
    await expect(connect('dave', { skipNegotiation: true })).rejects.toThrow();
    // Other users are not affected, and a slot freed is a slot again.
    await expect(connect('erin')).resolves.toBeDefined();
    await clients[0].stop();
    await eventually(async () => expect((await connect('dave')).connection.state).toBe('Connected'));
    expect(await counted('realtime_client_limit_hits_total', { limit: 'connections' })).toBeGreaterThanOrEqual(2);
  });
});

describe('token lifetime on the hub', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];
  const nowS = () => Math.floor(Date.now() / 1000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await gw?.close();
  });

  it.each([
    ['a token without exp', () => signHs256Jwt({ sub: 'alice' }, JWT_SECRET)],
    ['a token with a string exp', () => signHs256Jwt({ sub: 'alice', exp: String(nowS() + 600) }, JWT_SECRET)],
    ['a token with padding after the signature', () => `${tokenFor('alice')}==`],
    ['a token with junk after the signature', () => `${tokenFor('alice')}AAAA`],
  ])('refuses %s at negotiate and at connect', async (_name, token) => {
    gw = await startGatewayApp();
    await expect(new TestClient(gw.hubUrl, token()).start()).rejects.toThrow(/401|Unauthorized/);
    await expect(new TestClient(gw.hubUrl, token(), { skipNegotiation: true }).start()).rejects.toThrow();
    expect(await counted('realtime_hub_auth_failures_total', { reason: 'negotiate' })).toBe(1);
    expect(await counted('realtime_hub_auth_failures_total', { reason: 'connect' })).toBe(1);
  });

  it('closes a connection whose token expired with a reconnectable close, and stops delivering to it', async () => {
    gw = await startGatewayApp({ hub: { keepAliveIntervalMs: 300 } });
    // The stock client reconnects on allowReconnect and asks its factory for a fresh token.
    // It calls the factory at negotiate and at connect: the short-lived token until the first close.
    const shortLived = tokenFor('alice', 2);
    const expiredAt = (nowS() + 2) * 1000;
    const reasons: string[] = [];
    const alice = new TestClient(gw.hubUrl, () => (reasons.length === 0 ? shortLived : tokenFor('alice', 3600)), {
      reconnect: true,
    });
    clients.push(alice);
    alice.connection.onreconnecting((error) => reasons.push(error?.message ?? ''));
    const reconnected = new Promise<void>((resolve) => alice.connection.onreconnected(() => resolve()));
    await alice.start();
    await alice.connection.invoke('JoinGroup', 'g');
    await reconnected;
    expect(Date.now()).toBeGreaterThanOrEqual(expiredAt - 50);
    expect(reasons).toEqual([expect.stringMatching(/The access token expired/)]);
    expect(await counted('realtime_hub_auth_failures_total', { reason: 'expired' })).toBe(1);
    // The new connection has the fresh token; the old one (and its group membership) is gone.
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'g' })]);
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'user', id: 'alice' }, [{ fresh: true }])]);
    await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[{ fresh: true }]]));
  });

  it('keeps such a connection open when closeOnExpiration is off', async () => {
    gw = await startGatewayApp({
      hub: { keepAliveIntervalMs: 300 },
      auth: { jwtSecret: JWT_SECRET, closeOnExpiration: false },
    });
    const alice = await new TestClient(gw.hubUrl, tokenFor('alice', 1)).start();
    clients.push(alice);
    await sleep(1800);
    expect(alice.connection.state).toBe('Connected');
  });
});
