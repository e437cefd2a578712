import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { deliveryReport, GapFillingClient } from '../support/gap-filling-client';
import { listAll, postSteadily } from '../support/post-steadily';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { exposedMetric } from '../support/metrics';
import { eventually } from '../support/stream-reader';

const BRIDGE_SECRET = 'lagging-lane-order-test-secret-0123456789';
const BRIDGE_PATH = '/internal/realtime/events';
const MESSAGES = 800;
const PER_SECOND = 100;
const CLIENTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 22, finding 3. Redis dies, the events go over the bridge, and the api -> gateway B path is cut meanwhile,
 * so B's lane holds what B has not got; Redis comes back empty and the newer events go to the stream, which B reads
 * at once, while its lane still holds older ones. B's clients must still show the room in the database's order
 * (the gateway holds the newer ones for the older, or tells its clients to re-fetch): counted per client.
 */
describe('a gateway whose bridge lane lags while Redis comes back empty (api + two gateways as processes)', () => {
  let redis: RedisServer;
  let gateways: ServiceProcess[] = [];
  let api: ServiceProcess;
  let proxy: FirstLiveProxy;
  const clients: Array<{ gateway: string; client: GapFillingClient }> = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const gatewayEnv = (id: string) => ({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: id,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    });
    gateways = await Promise.all([ServiceProcess.start(gatewayEnv('gw-a')), ServiceProcess.start(gatewayEnv('gw-b'))]);
    proxy = await FirstLiveProxy.start([gateways[1].port]);
    api = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_HTTP_BRIDGE_URL: `${gateways[0].baseUrl}${BRIDGE_PATH},${proxy.url}${BRIDGE_PATH}`,
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map(({ client }) => client.stop().catch(() => undefined)));
    await proxy?.close();
    await api?.dispose();
    await Promise.all(gateways.map((gateway) => gateway.dispose()));
    await redis?.dispose();
  });

  const active = async () => (await api.health()).body.info?.realtime_transport?.active;

  it("keeps B's clients in commit order: 0 lost, 0 duplicated, 0 out of order, on both gateways", async () => {
    const poster = new ChatApi(api.baseUrl, 'poster');
    for (const [gateway, name] of [
      [gateways[0], 'A'],
      [gateways[1], 'B'],
    ] as const) {
      for (let i = 0; i < CLIENTS; i++) {
        const user = `reader-${name}${i}`;
        const client = new GapFillingClient(gateway.hubUrl, serviceToken(user), 'lag', new ChatApi(api.baseUrl, user));
        clients.push({ gateway: name, client: await client.start() });
      }
    }

    const posting = postSteadily(poster, 'lag', MESSAGES, PER_SECOND);
    await sleep(1000);
    // B's path goes, then Redis: what the bridge carries now waits in B's lane.
    proxy.setRefusing(true);
    proxy.cutAll();
    await redis.kill();
    await eventually(async () => expect(await active()).toBe('http-bridge'), 10_000, 100);
    await sleep(1000);
    await redis.start();
    await eventually(async () => expect(await active()).toBe('redis-streams'), 15_000, 100);
    // B reads the newer ones from the stream while its lane still holds older ones.
    await sleep(1000);
    proxy.setRefusing(false);
    await posting;

    const stored: StoredMessage[] = await listAll(poster, 'lag');
    expect(stored).toHaveLength(MESSAGES);
    const last = stored.at(-1)!.id;
    await eventually(
      async () => {
        await Promise.all(clients.map(({ client }) => client.settled()));
        for (const { client } of clients) expect(client.shown.some((m) => m.id === last)).toBe(true);
      },
      40_000,
      100,
    );
    const reports = clients.map(({ gateway, client }) => ({
      gateway,
      ...deliveryReport(stored, client.shown),
      told: client.reconnects,
    }));
    const held = exposedMetric(await gateways[1].metrics(), 'realtime_order_held_total');
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`lagging lane: B held ${held} envelopes for older ones; ${JSON.stringify(reports)}`);
    for (const report of reports) expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  }, 120_000);
});
