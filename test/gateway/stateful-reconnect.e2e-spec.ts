import WebSocket from 'ws';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge } from './support';
import { StatefulWire } from './stateful-wire';

describe('stateful reconnect on the wire (raw client)', () => {
  let gw: GatewayApp;
  let calls = 0;

  beforeEach(async () => {
    calls = 0;
    gw = await startGatewayApp({
      hub: { methods: { Count: () => ++calls } },
      statefulReconnect: { windowMs: 2000, bufferBytes: 4000 },
    });
  });

  afterEach(async () => {
    await gw.close();
  });

  it('is offered only to a client that asks, and not when turned off', async () => {
    const token = tokenFor('alice');
    expect((await StatefulWire.negotiate(gw.hubUrl, token)).body.useStatefulReconnect).toBe(true);
    expect((await StatefulWire.negotiate(gw.hubUrl, token, '')).body).not.toHaveProperty('useStatefulReconnect');
    const off = await startGatewayApp({ statefulReconnect: { enabled: false } });
    try {
      expect((await StatefulWire.negotiate(off.hubUrl, token)).body).not.toHaveProperty('useStatefulReconnect');
    } finally {
      await off.close();
    }
  });

  it('acks client messages, resends what the client did not acknowledge after a cut, and runs nothing twice', async () => {
    const wire = await StatefulWire.connect(gw.hubUrl, 'alice');
    wire.send({ type: 1, target: 'JoinGroup', arguments: ['room'], invocationId: '0' }); // client message 1
    wire.send({ type: 1, target: 'Count', arguments: [], invocationId: '1' }); // client message 2
    await eventually(() => expect(wire.records.filter((r) => r.type === 3)).toHaveLength(2));
    // The server acknowledges the client's messages about once a second.
    await eventually(() => expect(wire.records).toContainEqual({ type: 8, sequenceId: 2 }), 3000);
    for (const n of [1, 2, 3]) await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room' }, [n])]);
    await eventually(() => expect(wire.invocations()).toEqual([1, 2, 3]));
    // Server messages so far: 2 completions, 3 invocations. The client processed the first 3 (the completions, 1).
    wire.send({ type: 8, sequenceId: 3 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    wire.cut();
    await eventually(() => expect(wire.closed).toBe(true));
    // Sent while the socket is gone: kept for the client.
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'room' }, [4])]);

    wire.records.length = 0;
    expect(await wire.open()).toBe(101);
    // The client's side of the resume: Sequence with its oldest unacknowledged id, then that message again.
    wire.send({ type: 9, sequenceId: 2 });
    wire.send({ type: 1, target: 'Count', arguments: [], invocationId: '1' });
    await eventually(() => expect(wire.records.length).toBeGreaterThanOrEqual(4));
    expect(wire.records[0]).toEqual({ type: 9, sequenceId: 4 });
    expect(wire.invocations()).toEqual([2, 3, 4]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(1);
    // A new message after the resume is counted on: client message 3 is new, and runs.
    wire.send({ type: 1, target: 'Count', arguments: [], invocationId: '2' });
    await eventually(() => expect(wire.records).toContainEqual({ type: 3, invocationId: '2', result: 2 }));
  });

  it('closes a session past its replay buffer with a reconnectable close message, and forgets it', async () => {
    const wire = await StatefulWire.connect(gw.hubUrl, 'bob');
    wire.send({ type: 1, target: 'JoinGroup', arguments: ['big'], invocationId: '0' });
    await eventually(() => expect(wire.records.filter((r) => r.type === 3)).toHaveLength(1));
    // Never acknowledged: 5 x 1000 bytes passes the 4000-byte buffer.
    for (let i = 0; i < 5; i++)
      await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'big' }, ['x'.repeat(1000)])]);
    await eventually(() =>
      expect(wire.records).toContainEqual(expect.objectContaining({ type: 7, allowReconnect: true })),
    );
    await eventually(() => expect(wire.closed).toBe(true));
    expect(await wire.open()).toBe(404);
  });

  it('forgets a session whose client stays away longer than the window', async () => {
    const wire = await StatefulWire.connect(gw.hubUrl, 'carol');
    wire.cut();
    await eventually(() => expect(wire.closed).toBe(true));
    expect(await wire.open()).toBe(101);
    wire.cut();
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await wire.open()).toBe(404);
  });

  it("refuses a resume with another user's token", async () => {
    const wire = await StatefulWire.connect(gw.hubUrl, 'dave');
    wire.cut();
    await eventually(() => expect(wire.closed).toBe(true));
    expect(await wire.open(undefined, tokenFor('mallory'))).toBe(401);
    expect(await wire.open()).toBe(101);
  });
});

describe('stateful reconnect across instances (raw client, real redis-server)', () => {
  let redis: RedisServer;
  const apps: GatewayApp[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
    await redis.dispose();
  });

  it('connects a token negotiated on another instance (no sticky sessions), once', async () => {
    const redisOptions = { url: redis.url, blockMs: 200 };
    const [a, b] = [
      await startGatewayApp({ instanceId: 'gw-n1', redis: redisOptions }),
      await startGatewayApp({ instanceId: 'gw-n2', redis: redisOptions }),
    ];
    apps.push(a, b);
    const token = tokenFor('frank');
    const { body } = await StatefulWire.negotiate(a.hubUrl, token);
    const upgrade = (hubUrl: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}?id=${body.connectionToken as string}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        socket.once('open', () => resolve(101));
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      });
    expect(await upgrade(b.hubUrl)).toBe(101);
    // Single use across instances: the instance that negotiated it and the one that has it refuse a second socket.
    expect(await upgrade(a.hubUrl)).toBe(409);
    expect(await upgrade(b.hubUrl)).toBe(409);
  });

  it('resumes a session on another instance with what the client had not acknowledged, numbered on', async () => {
    const redisOptions = { url: redis.url, blockMs: 200 };
    const first = await startGatewayApp({ instanceId: 'gw-a', redis: redisOptions });
    apps.push(first);
    const wire = await StatefulWire.connect(first.hubUrl, 'erin');
    wire.send({ type: 1, target: 'JoinGroup', arguments: ['r'], invocationId: '0' });
    await eventually(() => expect(wire.records.filter((r) => r.type === 3)).toHaveLength(1));
    for (const n of [1, 2]) await postBridge(first.bridgeUrl, [envelope({ kind: 'group', name: 'r' }, [n])]);
    await eventually(() => expect(wire.invocations()).toEqual([1, 2]));
    wire.send({ type: 8, sequenceId: 2 }); // the completion and message 1
    await new Promise((resolve) => setTimeout(resolve, 100));
    wire.cut();
    await eventually(() => expect(wire.closed).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const second = await startGatewayApp({ instanceId: 'gw-b', redis: redisOptions });
    apps.push(second);
    wire.records.length = 0;
    expect(await wire.open(second.hubUrl)).toBe(101);
    wire.send({ type: 9, sequenceId: 2 });
    await eventually(() => expect(wire.invocations()).toEqual([2]));
    expect(wire.records[0]).toEqual({ type: 9, sequenceId: 3 });
    // The session's group came along: a new event reaches it on the second instance.
    await postBridge(second.bridgeUrl, [envelope({ kind: 'group', name: 'r' }, [3])]);
    await eventually(() => expect(wire.invocations()).toEqual([2, 3]));
  });
});
