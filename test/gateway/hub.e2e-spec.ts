import { HubMethodError } from '@realtime-streams/gateway';
import { ConnectionRegistry } from '@realtime-streams/gateway/testing';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';

describe('SignalR hub with stock @microsoft/signalr clients (bridge path)', () => {
  let gw: GatewayApp;
  const clients: TestClient[] = [];
  const connect = async (user: string, options?: ConstructorParameters<typeof TestClient>[2]) => {
    const client = await new TestClient(gw.hubUrl, tokenFor(user), options).start();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    gw = await startGatewayApp({
      hub: {
        groupMethods: [
          { join: 'JoinGroup', leave: 'LeaveGroup' },
          { join: 'JoinRoom', leave: 'LeaveRoom', toGroup: (roomId) => `room:${String(roomId)}` },
        ],
        authorizeGroup: (user, group) => !group.startsWith('private:') || group === `private:${user.id}`,
        methods: {
          Echo: (_context, value) => value,
          WhoAmI: (context) => context.user.id,
          Fail: () => {
            throw new HubMethodError('refused on purpose');
          },
          Crash: () => {
            throw new Error('secret internal detail');
          },
        },
      },
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
  });

  afterAll(() => gw.close());

  it('delivers group envelopes to members only, once each', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    await alice.connection.invoke('JoinRoom', '1');
    await bob.connection.invoke('JoinGroup', 'room:1');
    await carol.connection.invoke('JoinRoom', '2');

    const posted = await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room:1' }, [{ text: 'hi' }])]);
    expect(posted).toEqual({ status: 200, body: { accepted: 1, written: 2 } });
    // Answered only after dispatch: the frames are already on their way.
    await eventually(() => {
      expect(alice.of('ReceiveMessage')).toEqual([[{ text: 'hi' }]]);
      expect(bob.of('ReceiveMessage')).toEqual([[{ text: 'hi' }]]);
    });
    await sleep(50);
    expect(carol.received).toEqual([]);
  });

  it('stops delivering to a connection that left the group', async () => {
    const alice = await connect('alice');
    await alice.connection.invoke('JoinRoom', '7');
    await alice.connection.invoke('LeaveRoom', '7');
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room:7' })]);
    await sleep(50);
    expect(alice.received).toEqual([]);
  });

  it('delivers user envelopes to every connection of that user, and "all" to everyone', async () => {
    const phone = await connect('dave');
    const laptop = await connect('dave');
    const erin = await connect('erin');
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'user', id: 'dave' }, [{ for: 'dave' }])]);
    await eventually(() => {
      expect(phone.of('ReceiveMessage')).toEqual([[{ for: 'dave' }]]);
      expect(laptop.of('ReceiveMessage')).toEqual([[{ for: 'dave' }]]);
    });
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'all' }, [{ for: 'all' }])]);
    await eventually(() => expect(erin.of('ReceiveMessage')).toEqual([[{ for: 'all' }]]));
    expect(phone.of('ReceiveMessage')).toHaveLength(2);
  });

  it('drops a duplicate envelope id (dual write, retries)', async () => {
    const alice = await connect('alice');
    const once = envelope({ kind: 'user', id: 'alice' });
    await postBridge(gw.bridgeUrl, [once]);
    await postBridge(gw.bridgeUrl, [once, once]);
    await sleep(50);
    expect(alice.of('ReceiveMessage')).toHaveLength(1);
  });

  it('answers invoke with completions, and an unknown method with an error while the connection stays open', async () => {
    const alice = await connect('alice');
    await expect(alice.connection.invoke('Echo', { a: [1, 2] })).resolves.toEqual({ a: [1, 2] });
    await expect(alice.connection.invoke('whoami')).resolves.toBe('alice');
    await expect(alice.connection.invoke('JoinRoom', '3')).resolves.toBeUndefined();
    await expect(alice.connection.invoke('NoSuchMethod')).rejects.toThrow(/Method 'NoSuchMethod' does not exist/);
    await expect(alice.connection.invoke('Fail')).rejects.toThrow(/refused on purpose/);
    const crash = alice.connection.invoke('Crash');
    await expect(crash).rejects.toThrow(/unexpected error occurred invoking 'Crash'/);
    await expect(crash).rejects.not.toThrow(/secret internal detail/);
    await expect(alice.connection.invoke('JoinGroup', 42)).rejects.toThrow(/group name must be a string/);
    await alice.connection.send('Echo', 'fire and forget');
    await expect(alice.connection.invoke('Echo', 'still open')).resolves.toBe('still open');
    expect(alice.connection.state).toBe('Connected');
  });

  it('refuses a stream invocation with an error, not a dropped connection', async () => {
    const alice = await connect('alice');
    const stream = alice.connection.stream('Echo', 1);
    const error = await new Promise<Error>((resolve) =>
      stream.subscribe({ next: () => undefined, complete: () => undefined, error: resolve }),
    );
    expect(error.message).toMatch(/Streaming hub methods are not supported/);
    await expect(alice.connection.invoke('Echo', 2)).resolves.toBe(2);
  });

  it('runs the group authorization hook', async () => {
    const alice = await connect('alice');
    await expect(alice.connection.invoke('JoinGroup', 'private:alice')).resolves.toBeUndefined();
    await expect(alice.connection.invoke('JoinGroup', 'private:bob')).rejects.toThrow(
      /Not allowed to join private:bob/,
    );
  });

  it.each([
    ['a token signed with another secret', () => tokenFor('mallory', 3600, 'other-secret')],
    ['an expired token', () => tokenFor('alice', -120)],
    ['garbage', () => 'not-a-jwt'],
    ['no token', () => ''],
  ])('refuses %s at negotiate', async (_name, token) => {
    const client = new TestClient(gw.hubUrl, token());
    await expect(client.start()).rejects.toThrow(/401|Unauthorized/);
  });

  it('refuses a bad token at the WebSocket upgrade too (skipNegotiation)', async () => {
    await expect(
      new TestClient(gw.hubUrl, tokenFor('x', 3600, 'wrong'), { skipNegotiation: true }).start(),
    ).rejects.toThrow();
    const ok = await connect('frank', { skipNegotiation: true });
    await ok.connection.invoke('JoinRoom', '9');
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room:9' })]);
    await eventually(() => expect(ok.of('ReceiveMessage')).toHaveLength(1));
  });

  it('reconnects with withAutomaticReconnect after the server drops the socket, and receives later events', async () => {
    const alice = await connect('alice', { reconnect: true });
    await alice.connection.invoke('JoinRoom', '5');
    // Groups are not carried over a reconnect (a new connection): the client joins again, as SignalR apps do.
    const rejoined = new Promise<void>((resolve) =>
      alice.connection.onreconnected(() => void alice.connection.invoke('JoinRoom', '5').then(resolve)),
    );
    const registry = gw.app.get(ConnectionRegistry);
    const before = [...registry.all].filter((c) => c.user.id === 'alice');
    for (const connection of before) connection.terminate();
    await rejoined;
    const members = [...registry.group('room:5')];
    expect(members.filter((c) => c.user.id === 'alice')).toHaveLength(1);
    expect(before).not.toContain(members[0]);
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room:5' }, [{ after: 'reconnect' }])]);
    await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[{ after: 'reconnect' }]]));
  });

  it('closes connections on shutdown with a reason clients may reconnect on', async () => {
    const other = await startGatewayApp();
    const client = await new TestClient(other.hubUrl, tokenFor('zoe')).start();
    await other.close();
    await eventually(() => expect(client.closed).toBe(true));
    expect(client.closedWith?.message).toMatch(/Server is shutting down/);
  });
});
