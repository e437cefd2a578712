import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { freePort } from '../support/free-port';
import { deliveryReport } from '../support/gap-filling-client';
import { listAll } from '../support/post-steadily';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

const BRIDGE_SECRET = 'api-crash-test-bridge-secret-0123456789abcdef';

describe('durable accept: the api killed -9 with accepted messages still buffered (Redis down, bridge unreachable)', () => {
  let redis: RedisServer;
  let gateway: ServiceProcess;
  let api: ServiceProcess;
  const clients: TestClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await api?.dispose();
    await gateway?.dispose();
    await redis?.dispose();
  });

  it('delivers every accepted message live to every connected client once, in order, after the restart', async () => {
    redis = await RedisServer.start();
    gateway = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: 'gw-crash',
      REALTIME_BRIDGE_RECEIVER: 'false',
    });
    api = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      // A bridge nobody answers: the fallback has nowhere to go either.
      REALTIME_HTTP_BRIDGE_URL: `http://127.0.0.1:${await freePort()}/internal/realtime/events`,
    });
    for (let i = 0; i < 10; i++) {
      const client = await new TestClient(gateway.hubUrl, serviceToken(`user${i}`)).start();
      await client.connection.invoke('JoinRoom', 'crash');
      clients.push(client);
    }
    const poster = new ChatApi(api.baseUrl, 'poster');
    await poster.post('crash', 'before the outage');
    await eventually(() => clients.forEach((c) => expect(c.of('ReceiveMessage')).toHaveLength(1)));

    await redis.kill();
    await eventually(
      async () => expect((await api.health()).body.info?.realtime_transport?.active ?? 'none').toBe('none'),
      10_000,
    );
    for (let n = 0; n < 100; n++) await poster.post('crash', `#${n}`);
    await api.kill();
    await redis.start();
    await api.start();

    const stored = await listAll(poster, 'crash');
    expect(stored).toHaveLength(101);
    await eventually(
      () => clients.forEach((c) => expect(c.of('ReceiveMessage').length).toBeGreaterThanOrEqual(101)),
      20_000,
    );
    const reports = clients.map((c) =>
      deliveryReport(
        stored,
        c.of('ReceiveMessage').map(([m]) => m as StoredMessage),
      ),
    );
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`after kill -9 of the api: per client ${JSON.stringify(reports[0])} (10 clients, 100 buffered)`);
    for (const report of reports) expect(report).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Everything acknowledged: the outbox is empty again.
    await eventually(
      async () => expect(await api.metrics()).toMatch(/realtime_outbox_pending(\{[^}]*\})? 0\b/),
      10_000,
    );
  });
});
