import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { deliveryReport, GapFillingClient } from '../support/gap-filling-client';
import { RedisServer } from '../support/redis-server';
import { type ServiceEnv, ServiceProcess } from '../support/service-process';
import { listAll, postSteadily } from '../support/post-steadily';
import { exposedMetric } from '../support/metrics';
import { eventually } from '../support/stream-reader';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BRIDGE_SECRET = 'stateful-resume-test-bridge-secret-0123456789';
const MESSAGES = 400;
const PER_SECOND = 100;
const CLIENTS = 5;

interface Deployment {
  redis: RedisServer;
  api: ServiceProcess;
  gateways: ServiceProcess[];
  proxy: FirstLiveProxy;
}

/**
 * Stock clients behind a TCP load balancer that sends each new connection to the first live gateway of two, 100
 * messages a second to one room, a fault in the middle; every message is counted per client.
 */
describe('stateful reconnect with stock clients, two gateways behind a load balancer, 100 msg/s', () => {
  let deployment: Deployment | undefined;
  const clients: GapFillingClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    if (!deployment) return;
    await deployment.proxy.close();
    await Promise.all([...deployment.gateways, deployment.api].map((service) => service.dispose()));
    await deployment.redis.dispose();
    deployment = undefined;
  });

  async function deploy(gatewayEnv: ServiceEnv = {}): Promise<Deployment> {
    const redis = await RedisServer.start();
    // 16 shards: interest routing reads the room and the users on shards of their own, and the second gateway,
    // with no client until the first one goes, reads none of them before a session resumes on it.
    const shards = { REALTIME_STREAM_SHARDS: '16' };
    const env = (id: string) => ({
      ...shards,
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: id,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_SHUTDOWN_TIMEOUT_MS: '3000',
      ...gatewayEnv,
    });
    // The three processes need nothing of each other to start (the proxy, made next, is what orders the gateways).
    const [api, ...gateways] = await Promise.all([
      ServiceProcess.start({
        ...shards,
        REDIS_URL: redis.url,
        REALTIME_ROLE: 'api',
        REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      }),
      ServiceProcess.start(env('gw-1')),
      ServiceProcess.start(env('gw-2')),
    ]);
    const proxy = await FirstLiveProxy.start(gateways.map((g) => g.port));
    deployment = { redis, api, gateways, proxy };
    return deployment;
  }

  /** Connects the clients through the proxy (all on the first gateway), posts, runs `fault` 1.5 s in, counts. */
  async function flow(d: Deployment, room: string, fault: () => Promise<void>, stateful = true) {
    const hubUrl = d.proxy.url + new URL(d.gateways[0].hubUrl).pathname;
    for (let i = 0; i < CLIENTS; i++) {
      const user = `${room}-user${i}`;
      clients.push(
        await new GapFillingClient(
          hubUrl,
          serviceToken(user),
          room,
          new ChatApi(d.api.baseUrl, user),
          200,
          stateful,
        ).start(),
      );
    }
    const poster = new ChatApi(d.api.baseUrl, 'poster');
    const posting = postSteadily(poster, room, MESSAGES, PER_SECOND);
    await sleep(1500);
    await fault();
    await posting;
    const stored: StoredMessage[] = await listAll(poster, room);
    expect(stored).toHaveLength(MESSAGES);
    // Waits for every client to have every message, then counts (a failure names what was lost, not a timeout).
    await eventually(async () => {
      await Promise.all(clients.map((c) => c.settled()));
      for (const client of clients) expect(client.shown.length).toBeGreaterThanOrEqual(MESSAGES);
    }, 20_000).catch(() => undefined);
    await sleep(300);
    const reports = clients.map((c) => ({
      ...deliveryReport(stored, c.shown),
      liveDuplicates: c.liveDuplicates,
      newConnections: c.reconnects,
    }));
    // eslint-disable-next-line no-console -- the counts are the result (lost, duplicated, out of order)
    console.log(`${room}: ${JSON.stringify(reports)}`);
    for (const c of clients) {
      const shownIds = new Set(c.shown.map((m) => m.id));
      const missing = stored.map((m, i) => (shownIds.has(m.id) ? -1 : i)).filter((i) => i >= 0);
      if (missing.length)
        console.log(`${room}: ${c.client.connection.connectionId} is missing messages ${missing.join(',')}`); // eslint-disable-line no-console
    }
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    return reports;
  }

  const metric = async (gateway: ServiceProcess, name: string, labels: Record<string, string>) =>
    exposedMetric(await (await fetch(`${gateway.baseUrl}/metrics`)).text(), name, labels);

  it('a socket cut mid-flow resumes on the same gateway: nothing lost, no new connection', async () => {
    const d = await deploy();
    const reports = await flow(d, 'cut', async () => d.proxy.cutAll());
    for (const report of reports) expect(report.newConnections).toBe(0);
    expect(await metric(d.gateways[0], 'realtime_hub_sessions_resumed_total', { instance: 'same' })).toBe(CLIENTS);
  });

  it("SIGTERM of the clients' gateway hands the sessions over: they resume on the other one", async () => {
    const d = await deploy();
    const reports = await flow(d, 'deploy', () => d.gateways[0].stop());
    for (const report of reports) expect(report.newConnections).toBe(0);
    expect(await metric(d.gateways[1], 'realtime_hub_sessions_resumed_total', { instance: 'other' })).toBe(CLIENTS);
  });

  it("kill -9 of the clients' gateway: they resume on the other one from the last checkpoint and the stream", async () => {
    const d = await deploy();
    const reports = await flow(d, 'crash', () => d.gateways[0].kill());
    for (const report of reports) expect(report.newConnections).toBe(0);
    expect(await metric(d.gateways[1], 'realtime_hub_sessions_resumed_total', { instance: 'other' })).toBe(CLIENTS);
  });

  it('a client that stops reading passes its replay buffer: closed, it starts over and re-fetches', async () => {
    const d = await deploy({ REALTIME_RECONNECT_BUFFER_BYTES: '4096' });
    const reports = await flow(d, 'overflow', async () => {
      d.proxy.pauseAll();
      await sleep(1500);
      d.proxy.resumeAll();
    });
    for (const report of reports) expect(report.newConnections).toBeGreaterThanOrEqual(1);
    expect(
      await metric(d.gateways[0], 'realtime_client_limit_hits_total', { limit: 'replay_buffer' }),
    ).toBeGreaterThanOrEqual(CLIENTS);
  });

  it('a client away longer than the reconnect window gets 404, starts over and re-fetches', async () => {
    const d = await deploy({ REALTIME_RECONNECT_WINDOW_MS: '500' });
    const reports = await flow(d, 'expiry', async () => {
      d.proxy.setRefusing(true);
      d.proxy.cutAll();
      await sleep(2500);
      d.proxy.setRefusing(false);
    });
    for (const report of reports) expect(report.newConnections).toBeGreaterThanOrEqual(1);
  });

  it('a client without withStatefulReconnect behaves as before: a new connection and a re-fetch', async () => {
    const d = await deploy();
    const reports = await flow(d, 'plain', async () => d.proxy.cutAll(), false);
    for (const report of reports) expect(report.newConnections).toBeGreaterThanOrEqual(1);
  });
});
