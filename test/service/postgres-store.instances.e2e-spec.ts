import { ChatApi, serviceToken } from '../support/chat-api';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { PostgresTestDatabase } from '../support/postgres-database';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

async function bodyOf(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

describe('two api instances and a gateway on one PostgreSQL (DATABASE_URL)', () => {
  let redis: RedisServer;
  let database: PostgresTestDatabase;
  /** Between PostgreSQL and the second api and the gateway: cut to take the database away from those two only. */
  let proxy: FirstLiveProxy;
  let first: ServiceProcess;
  let second: ServiceProcess;
  let gateway: ServiceProcess;
  const clients: TestClient[] = [];
  const connect = async (user: string) => {
    const client = await new TestClient(gateway.hubUrl, serviceToken(user)).start();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [redis, database] = await Promise.all([RedisServer.start(), PostgresTestDatabase.create()]);
    proxy = await FirstLiveProxy.start([database.serverPort]);
    const shared = { REDIS_URL: redis.url, ROOMS_OPEN: 'false' };
    // Started together: all three create the schema at once.
    [first, second, gateway] = await Promise.all([
      ServiceProcess.start({ ...shared, REALTIME_ROLE: 'api', DATABASE_URL: database.url() }),
      ServiceProcess.start({ ...shared, REALTIME_ROLE: 'api', DATABASE_URL: database.url(proxy.port) }),
      ServiceProcess.start({
        ...shared,
        REALTIME_ROLE: 'gateway',
        REALTIME_INSTANCE_ID: 'gw-postgres',
        REALTIME_BRIDGE_RECEIVER: 'false',
        DATABASE_URL: database.url(proxy.port),
      }),
    ]);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    await Promise.all([first?.dispose(), second?.dispose(), gateway?.dispose()]);
    await proxy?.close();
    await Promise.all([database?.dispose(), redis?.dispose()]);
  });

  it('sees a room created on the other instance, its members and who may post', async () => {
    const alice = new ChatApi(first.baseUrl, 'alice');
    expect((await alice.createRoom('shared', ['bob'])).status).toBe(201);
    expect((await new ChatApi(second.baseUrl, 'carol').createRoom('shared')).status).toBe(409);

    const bobOnSecond = new ChatApi(second.baseUrl, 'bob');
    expect(await bodyOf(await bobOnSecond.request('GET', '/rooms/shared/members'))).toEqual({
      roomId: 'shared',
      members: ['alice', 'bob'],
    });
    expect((await bobOnSecond.addMember('shared', 'carol')).status).toBe(201);
    expect((await alice.addMember('shared', 'carol')).status).toBe(200); // added on the other instance already
    expect((await new ChatApi(first.baseUrl, 'mallory').request('GET', '/rooms/shared/messages')).status).toBe(403);
  });

  it('lets the gateway check JoinRoom against rooms created through an api', async () => {
    const [bob, mallory] = [await connect('bob'), await connect('mallory')];
    await bob.connection.invoke('JoinRoom', 'shared');
    await expect(mallory.connection.invoke('JoinRoom', 'shared')).rejects.toThrow('Not allowed to join room:shared.');
    const message = await new ChatApi(second.baseUrl, 'alice').post('shared', 'to the room');
    await eventually(() => expect(bob.of('ReceiveMessage')).toEqual([[message]]));
  });

  it('lists the messages posted to either instance in one order, on both', async () => {
    expect((await new ChatApi(second.baseUrl, 'alice').createRoom('ordered', ['bob', 'carol'])).status).toBe(201);
    const apis = [first, second].flatMap((service) => [
      new ChatApi(service.baseUrl, 'alice'),
      new ChatApi(service.baseUrl, 'bob'),
    ]);
    const posted = [];
    for (let i = 0; i < 8; i++) posted.push(await apis[i % apis.length].post('ordered', `#${i}`));
    // And some at once, from both instances: they interleave, but both instances list them the same way.
    const burst = await Promise.all(
      apis.flatMap((api, i) => [0, 1].map((n) => api.post('ordered', `burst ${i}.${n}`))),
    );

    const onFirst = await new ChatApi(first.baseUrl, 'carol').list('ordered');
    const onSecond = await new ChatApi(second.baseUrl, 'carol').list('ordered');
    expect(onSecond).toEqual(onFirst);
    expect(onFirst.slice(0, 8)).toEqual(posted);
    const idsOf = (messages: { id: string }[]) => messages.map((m) => m.id).sort();
    expect(idsOf(onFirst.slice(8))).toEqual(idsOf(burst));
    // `after` an id one instance stored, on the other.
    expect(await new ChatApi(second.baseUrl, 'alice').list('ordered', posted[2].id, 3)).toEqual(posted.slice(3, 6));
  });

  it('reports the database on /health', async () => {
    for (const service of [first, gateway]) {
      const health = await service.health();
      expect(health.status).toBe(200);
      expect(health.body.info.database).toMatchObject({ status: 'up', store: 'postgresql' });
    }
  });

  it('answers 503 without a stack while its database is unreachable, and recovers by itself', async () => {
    const bob = new ChatApi(second.baseUrl, 'bob');
    const bobOnHub = await connect('bob');
    const logStart = second.output.join('').length;
    proxy.setRefusing(true);
    proxy.cutAll();
    try {
      for (const response of [
        await bob.request('POST', '/rooms/shared/messages', { text: 'while down' }),
        await bob.request('GET', '/rooms/shared/messages'),
        await bob.request('GET', '/rooms/shared/members'),
        await bob.createRoom('while-down'),
      ]) {
        expect(response.status).toBe(503);
        expect(await bodyOf(response)).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'database unavailable; try again',
        });
      }
      const health = await second.health();
      expect(health.status).toBe(503);
      expect(health.body.error.database).toMatchObject({ status: 'down', store: 'postgresql' });
      // The gateway keeps delivering (degraded, not down); only a join that needs the database fails, and says so.
      const gatewayHealth = await gateway.health();
      expect(gatewayHealth.status).toBe(200);
      expect(gatewayHealth.body.info.database).toMatchObject({ status: 'up', reachable: false });
      await expect(bobOnHub.connection.invoke('JoinRoom', 'shared')).rejects.toThrow(
        'Rooms are unavailable; try again.',
      );
      // The other instance has its own connections: it goes on.
      expect((await new ChatApi(first.baseUrl, 'alice').post('shared', 'first is fine')).text).toBe('first is fine');
    } finally {
      proxy.setRefusing(false);
    }
    await eventually(async () => expect((await bob.post('shared', 'back')).text).toBe('back'), 10_000);
    expect((await second.health()).status).toBe(200);

    const log = second.output.join('').slice(logStart);
    expect(log).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+\/realtime_test_\w+ is unavailable .*answer 503/);
    expect(log).toMatch(/is reachable again/);
    expect(log).not.toMatch(/ExceptionsHandler|\n\s+at /);
    expect(log.match(/is unavailable \(/g)).toHaveLength(1); // once per outage, not once per request
  });

  it('republishes what a killed instance left in the shared outbox when it starts again', async () => {
    const outboxIds = () => database.query('SELECT id FROM realtime_outbox');
    await eventually(async () => expect(await outboxIds()).toEqual([])); // what the tests before sent is removed
    await redis.kill();
    // Nowhere to publish: accepted messages wait in memory, their records in the shared outbox.
    await eventually(
      async () => expect((await second.health()).body.info?.realtime_transport?.active ?? 'none').toBe('none'),
      10_000,
    );
    const bob = new ChatApi(second.baseUrl, 'bob');
    const left = [];
    for (let i = 0; i < 5; i++) left.push(await bob.post('shared', `left #${i}`));
    await second.kill();
    const records = await database.query<{ json: string }>('SELECT json FROM realtime_outbox ORDER BY cursor');
    expect(records.map((row) => (JSON.parse(row.json) as { args: [{ id: string }] }).args[0].id)).toEqual(
      left.map((m) => m.id),
    );

    await redis.start();
    await second.start();
    // Read at start, published, acknowledged, removed.
    await eventually(async () => expect(await outboxIds()).toEqual([]), 15_000);
    expect(await second.metrics()).toMatch(/realtime_outbox_relayed_total(\{[^}]*\})? 5\b/);
  });
});
