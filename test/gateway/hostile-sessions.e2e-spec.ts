import Redis from 'ioredis';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/stream-reader';
import { envelope, metric, postBridge, sleep } from './support';
import { StatefulWire } from './stateful-wire';

const KB = 1024;

/** Bytes Redis has received from all its clients so far. */
async function redisInputBytes(redis: Redis): Promise<number> {
  const stats = await redis.info('stats');
  return Number(/total_net_input_bytes:(\d+)/.exec(stats)![1]);
}

describe('stateful sessions against a logged-in attacker (raw clients, real redis-server)', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  const apps: GatewayApp[] = [];

  beforeAll(async () => {
    redisServer = await RedisServer.start();
    redis = new Redis(redisServer.url);
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });

  afterAll(async () => {
    redis.disconnect();
    await redisServer.dispose();
  });

  async function gateway(instanceId: string, extra: Parameters<typeof startGatewayApp>[0] = {}): Promise<GatewayApp> {
    const app = await startGatewayApp({
      instanceId,
      redis: { url: redisServer.url, blockMs: 200 },
      hub: { methods: { Blob: () => 'x'.repeat(3000) } },
      limits: { invocationsPerSecond: 100_000, invocationBurst: 100_000 },
      ...extra,
    });
    apps.push(app);
    return app;
  }

  it('closes a session that never acknowledges, whatever it is sent, and writes Redis a bounded amount', async () => {
    const gw = await gateway('gw-noack');
    const wire = await StatefulWire.connect(gw.hubUrl, 'mallory');
    const inputBefore = await redisInputBytes(redis);
    // 600 calls with long ids, never an ack: 1.8 MB of completions the session would have to keep.
    for (let i = 0; i < 600 && !wire.closed; i += 50) {
      let frame = '';
      for (let j = i; j < i + 50; j++)
        frame +=
          JSON.stringify({ type: 1, invocationId: `${j}-${'i'.repeat(100)}`, target: 'Blob', arguments: [] }) +
          '\u001e';
      wire.socket.send(frame);
      await sleep(10);
    }
    await eventually(() => expect(wire.closed).toBe(true));
    const close = wire.records.find((r) => r.type === 7)!;
    expect(close).toEqual({ type: 7, error: expect.stringMatching(/over the replay buffer/), allowReconnect: true });
    // What it was sent before the close stayed within the buffer (100,000 bytes) and one reply.
    const completions = wire.records.filter((r) => r.type === 3);
    expect(completions.length).toBeLessThanOrEqual(Math.ceil(100_000 / 3100) + 1);
    expect(await metric('realtime_client_limit_hits_total', { limit: 'replay_buffer' })).toBe(1);
    // Never a record per call: at most one mark of the record being behind, and no whole record in between.
    expect(await metric('realtime_hub_session_writes_total', { kind: 'behind' })).toBeLessThanOrEqual(2);
    expect(await metric('realtime_hub_session_write_bytes_total')).toBeLessThan(64 * KB);
    expect((await redisInputBytes(redis)) - inputBefore).toBeLessThan(512 * KB);
    // Closed for good: its resume finds nothing.
    expect(await wire.open()).toBe(404);
  });

  it('writes a busy session to Redis at most once a second, however often it calls', async () => {
    const gw = await gateway('gw-busy');
    const wire = await StatefulWire.connect(gw.hubUrl, 'busy');
    const started = Date.now();
    let acked = 0;
    for (let i = 0; i < 60; i++) {
      wire.send({ type: 1, invocationId: String(i), target: 'JoinGroup', arguments: [`room-${i % 3}`] });
      const received = wire.records.filter((r) => r.type === 3).length;
      if (received > acked) {
        acked = received;
        wire.send({ type: 8, sequenceId: acked });
      }
      await sleep(50);
    }
    const seconds = (Date.now() - started) / 1000;
    const writes = (kind: string) => metric('realtime_hub_session_writes_total', { kind });
    // A checkpoint and a mark per tick at most (plus the first record), not one per call (60 calls).
    expect(await writes('checkpoint')).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(await writes('behind')).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
  });

  it('counts sessions waiting to resume toward the per-user cap, and checks it at a resume elsewhere', async () => {
    const a = await gateway('gw-cap-a', { limits: { maxConnectionsPerUser: 3 } });
    const wires: StatefulWire[] = [];
    for (let i = 0; i < 3; i++) wires.push(await StatefulWire.connect(a.hubUrl, 'carol'));
    for (const wire of wires) wire.cut();
    await eventually(() => expect(wires.every((wire) => wire.closed)).toBe(true));
    // Three sessions can come back at any moment: a fourth connection is refused.
    expect((await StatefulWire.negotiate(a.hubUrl, tokenFor('carol'))).status).toBe(429);
    // They come back on another instance that allows carol one connection: one resumes, the others are refused.
    const b = await gateway('gw-cap-b', { limits: { maxConnectionsPerUser: 1 } });
    await sleep(200);
    const statuses: number[] = [];
    for (const wire of wires) statuses.push(await wire.open(b.hubUrl));
    expect(statuses.sort()).toEqual([101, 429, 429]);
    // The two refused are still there to resume where they were.
    const refused = wires.filter((_, i) => statuses[i] === 429);
    for (const wire of refused) expect(await wire.open(a.hubUrl)).toBe(101);
  });

  it('leaves a session untouched when another user tries to resume it', async () => {
    const a = await gateway('gw-victim-a');
    const b = await gateway('gw-victim-b');
    const alice = await StatefulWire.connect(a.hubUrl, 'alice');
    alice.send({ type: 1, invocationId: '0', target: 'JoinGroup', arguments: ['r'] });
    await eventually(() => expect(alice.records.filter((r) => r.type === 3)).toHaveLength(1));
    alice.send({ type: 8, sequenceId: 1 });
    await sleep(1200); // a checkpoint with the group
    // Mallory, with a valid token of her own and alice's connection token, on another instance: refused...
    expect(await alice.withToken(tokenFor('mallory')).open(b.hubUrl)).toBe(401);
    // ...and alice keeps her session: past the next checkpoints (every 5 s) it is still hers.
    await sleep(6000);
    await postBridge(a.bridgeUrl, [envelope({ kind: 'group', name: 'r' }, [1])]);
    await eventually(() => expect(alice.invocations()).toEqual([1]));
    expect(alice.closed).toBe(false);
    // Her own resume elsewhere works.
    alice.cut();
    await eventually(() => expect(alice.closed).toBe(true));
    await sleep(100);
    expect(await alice.open(b.hubUrl)).toBe(101);
  });
});
