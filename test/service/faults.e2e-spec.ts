import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { postSteadily } from '../support/post-steadily';
import { eventually } from '../support/stream-reader';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const textsOf = (client: TestClient) => client.of('ReceiveMessage').map(([m]) => (m as StoredMessage).text);

describe('reference service under faults (real redis-server, stock clients)', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  const clients: TestClient[] = [];

  const join = async (user: string, room: string) => {
    const client = await new TestClient(service.hubUrl, serviceToken(user), { reconnect: true }).start();
    clients.push(client);
    await client.connection.invoke('JoinRoom', room);
    return client;
  };

  beforeEach(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await service.dispose();
    await redis.dispose();
  });

  it('delivers every message to every client once, in order, while Redis is killed -9 and comes back empty', async () => {
    const [alice, bob] = [await join('alice', 'flow'), await join('bob', 'flow')];
    const api = new ChatApi(service.baseUrl, 'poster');
    const posting = postSteadily(api, 'flow', 300, 100);

    await sleep(1000);
    await redis.kill();
    await eventually(async () => {
      const health = await service.health();
      expect(health.status).toBe(200);
      expect(health.body.info.realtime_transport).toMatchObject({ active: 'http-bridge', degraded: true });
      expect(health.body.info.redis).toMatchObject({ reachable: false });
    }, 5000);
    await sleep(700);
    await redis.start();
    await eventually(
      async () => expect((await service.health()).body.info.realtime_transport.active).toBe('redis-streams'),
      10_000,
    );

    await posting;
    // Posts overlap, so the order to expect is the service's: the order it stored (and published) them in.
    const stored = (await api.list('flow', undefined, 500)).map((m) => m.text);
    expect(stored).toHaveLength(300);
    await eventually(() => {
      expect(textsOf(alice)).toHaveLength(300);
      expect(textsOf(bob)).toHaveLength(300);
    }, 20_000);
    await sleep(300);
    expect(textsOf(alice)).toEqual(stored);
    expect(textsOf(bob)).toEqual(stored);
    const metrics = await service.metrics();
    expect(metrics).toMatch(/realtime_fallback_switches_total\{from="redis-streams",to="http-bridge"\} [1-9]/);
    expect(metrics).toMatch(/realtime_fallback_switches_total\{from="http-bridge",to="redis-streams"\} [1-9]/);
    expect(metrics).toMatch(/realtime_gateway_envelopes_received_total\{transport="http-bridge"\} [1-9]/);
  });

  it('lets a client that was disconnected fill the gap with GET ?after= and end with every message once, in order', async () => {
    const api = new ChatApi(service.baseUrl, 'poster');
    const reader = new ChatApi(service.baseUrl, 'alice');
    const alice = await join('alice', 'gap');
    // A careful client: live messages wait while the gap is fetched, then only unseen ones are kept.
    const kept: StoredMessage[] = [];
    const seen = new Set<string>();
    let filling = false;
    const queued: StoredMessage[] = [];
    const keep = (m: StoredMessage) => {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      kept.push(m);
    };
    alice.connection.on('ReceiveMessage', (m: StoredMessage) => (filling ? queued.push(m) : keep(m)));

    const posting = postSteadily(api, 'gap', 150, 100);
    await sleep(400);
    await alice.connection.stop(); // the network drops
    await sleep(500);
    filling = true;
    await alice.connection.start();
    await alice.connection.invoke('JoinRoom', 'gap');
    const lastSeen = kept.at(-1)!.id;
    for (const missed of await reader.list('gap', lastSeen, 500)) keep(missed);
    filling = false;
    queued.splice(0).forEach(keep);
    await posting;
    const stored = await reader.list('gap', undefined, 500);
    expect(stored).toHaveLength(150);
    await eventually(() => expect(kept).toHaveLength(150), 10_000);
    expect(kept.map((m) => m.id)).toEqual(stored.map((m) => m.id));
  });

  it('rolls back to the HTTP bridge on SIGHUP after the env file says REALTIME_USE_REDIS_STREAMS=false, losing nothing', async () => {
    const [alice, bob] = [await join('alice', 'rb'), await join('bob', 'rb')];
    const api = new ChatApi(service.baseUrl, 'poster');
    const before = await postSteadily(api, 'rb', 50, 200);
    await eventually(() => expect(textsOf(alice)).toHaveLength(50));

    const { writeFileSync } = await import('node:fs');
    writeFileSync(service.envFile, `REDIS_URL=${redis.url}\nREALTIME_USE_REDIS_STREAMS=false\n`);
    service.signal('SIGHUP');
    await eventually(async () =>
      expect((await service.health()).body.info.realtime_transport.preferred).toBe('http-bridge'),
    );

    await postSteadily(api, 'rb', 50, 200);
    const sent = (await api.list('rb', undefined, 500)).map((m) => m.text);
    expect(sent).toHaveLength(100);
    expect(before).toHaveLength(50);
    await eventually(() => {
      expect(textsOf(alice)).toEqual(sent);
      expect(textsOf(bob)).toEqual(sent);
    });
    const client = redis.client();
    expect(await client.xlen('realtime:{0}')).toBe(50);
    client.disconnect();
    expect(await service.metrics()).toMatch(
      /realtime_published_envelopes_total\{transport="http-bridge",outcome="success"\} 50/,
    );
  });
});

describe('npm start without a reachable Redis', () => {
  it('starts, carries messages over the HTTP bridge, says so in /health, and moves to Redis Streams when it appears', async () => {
    const redis = await RedisServer.start();
    await redis.stop(); // its port is known, nothing listens there yet
    const service = await ServiceProcess.start({ REDIS_URL: redis.url });
    const alice = await new TestClient(service.hubUrl, serviceToken('alice')).start();
    try {
      await alice.connection.invoke('JoinRoom', 'offline');
      const api = new ChatApi(service.baseUrl, 'bob');
      const first = await api.post('offline', 'over the bridge');
      await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[first]]));
      const health = await service.health();
      expect(health.status).toBe(200);
      expect(health.body.info).toMatchObject({
        realtime_transport: { status: 'up', active: 'http-bridge', degraded: true },
        redis: { reachable: false },
      });
      expect(service.output.join('')).toMatch(/Redis: connect ECONNREFUSED/);

      await redis.start();
      await eventually(
        async () => expect((await service.health()).body.info.realtime_transport.active).toBe('redis-streams'),
        15_000,
      );
      const second = await api.post('offline', 'over the stream');
      await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[first], [second]]), 15_000);
      expect(await service.metrics()).toMatch(
        /realtime_gateway_envelopes_received_total\{transport="redis-streams"\} 1/,
      );
    } finally {
      await alice.stop();
      await service.dispose();
      await redis.dispose();
    }
  });
});

describe('REALTIME_ROLE=api and REALTIME_ROLE=gateway as two processes', () => {
  it('deliver end to end through Redis Streams', async () => {
    const redis = await RedisServer.start();
    // Split roles never run on a generated bridge secret: both processes get the same one (the api only needs it
    // once it posts to the bridge, REALTIME_HTTP_BRIDGE_URL).
    const shared = { REDIS_URL: redis.url, REALTIME_BRIDGE_SECRET: 'faults-test-bridge-secret-0123456789abcdef' };
    const gateway = await ServiceProcess.start({ ...shared, REALTIME_ROLE: 'gateway', REALTIME_INSTANCE_ID: 'gw-1' });
    const api = await ServiceProcess.start({ ...shared, REALTIME_ROLE: 'api' });
    const alice = await new TestClient(gateway.hubUrl, serviceToken('alice')).start();
    try {
      await alice.connection.invoke('JoinRoom', 'split');
      const message = await new ChatApi(api.baseUrl, 'bob').post('split', 'across processes');
      await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[message]]));
      expect(await gateway.metrics()).toMatch(
        /realtime_gateway_envelopes_received_total\{transport="redis-streams"\} 1/,
      );
      // Each process serves only its role.
      expect((await fetch(`${gateway.baseUrl}/rooms/split/messages`)).status).toBe(404);
      expect((await fetch(`${api.baseUrl}/hubs/chat/negotiate`, { method: 'POST' })).status).toBe(404);
      expect((await api.health()).body.info).toHaveProperty('realtime_transport');
      expect((await gateway.health()).body.info).toHaveProperty('realtime_gateway');
    } finally {
      await alice.stop();
      await api.dispose();
      await gateway.dispose();
      await redis.dispose();
    }
  });
});
