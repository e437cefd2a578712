import { Pool } from 'undici';
import { ChatApi, serviceToken } from '../support/chat-api';
import { deliveryReport, GapFillingClient } from '../support/gap-filling-client';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { listAll, postSteadily } from '../support/post-steadily';
import { eventually } from '../support/stream-reader';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BRIDGE_SECRET = 'gateway-deploy-test-bridge-secret-0123456789';
const SHUTDOWN_TIMEOUT_MS = 3000;

/** A load balancer's health check: GET /health every 100 ms on one kept-alive connection. */
function pollHealth(baseUrl: string): { stop: () => Promise<void> } {
  const pool = new Pool(baseUrl, { connections: 1, keepAliveTimeout: 60_000 });
  let running = true;
  const loop = (async () => {
    while (running) {
      await pool
        .request({ path: '/health', method: 'GET', headersTimeout: 1000 })
        .then((response) => response.body.dump())
        .catch(() => undefined);
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await pool.destroy();
    },
  };
}

describe('a gateway deploy (SIGTERM, then a replacement on the same port) with stock clients retrying every 200 ms', () => {
  let redis: RedisServer;
  let api: ServiceProcess;
  let gateway: ServiceProcess;
  const clients: GapFillingClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await gateway?.dispose();
    await api?.dispose();
    await redis?.dispose();
  });

  it('exits within its shutdown timeout, and every client ends with every message once, in order', async () => {
    redis = await RedisServer.start();
    const gatewayEnv = {
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: 'gw-deploy',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    };
    gateway = await ServiceProcess.start(gatewayEnv);
    api = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    });
    const poster = new ChatApi(api.baseUrl, 'poster');
    for (let i = 0; i < 10; i++) {
      const user = `user${i}`;
      clients.push(
        await new GapFillingClient(
          gateway.hubUrl,
          serviceToken(user),
          'deploy',
          new ChatApi(api.baseUrl, user),
        ).start(),
      );
    }

    const posting = postSteadily(poster, 'deploy', 500, 100);
    const healthCheck = pollHealth(gateway.baseUrl);
    await sleep(1500);
    const stopping = Date.now();
    await gateway.stop();
    const exitMs = Date.now() - stopping;
    await healthCheck.stop();
    // The replacement takes the same port, as a deploy on one host does.
    gateway = await ServiceProcess.start({ ...gatewayEnv, PORT: String(gateway.port) });
    await posting;

    const stored = await listAll(poster, 'deploy');
    expect(stored).toHaveLength(500);
    await eventually(async () => {
      await Promise.all(clients.map((c) => c.settled()));
      for (const client of clients) expect(client.shown.length).toBeGreaterThanOrEqual(500);
    }, 30_000);
    const reports = clients.map((c) => ({
      ...deliveryReport(stored, c.shown),
      liveDuplicates: c.liveDuplicates,
      reconnects: c.reconnects,
    }));
    // eslint-disable-next-line no-console -- the counts are the result (lost, duplicated, out of order)
    console.log(`gateway exited ${exitMs} ms after SIGTERM; per client: ${JSON.stringify(reports[0])} (10 clients)`);
    expect(exitMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2000);
    for (const report of reports) {
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
      expect(report.reconnects).toBeGreaterThanOrEqual(1);
    }
  });
});
