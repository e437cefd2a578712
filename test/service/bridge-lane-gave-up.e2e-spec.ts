import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { deliveryReport, GapFillingClient } from '../support/gap-filling-client';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { listAll, postSteadily } from '../support/post-steadily';
import { exposedMetric } from '../support/metrics';
import { eventually } from '../support/stream-reader';

const BRIDGE_SECRET = 'bridge-lane-gave-up-test-secret-0123456789';
const BRIDGE_PATH = '/internal/realtime/events';
const LANE_RETRY_MS = 2000;
const BUSY_MESSAGES = 800;
const PER_SECOND = 100;
const QUIET_MESSAGES = 20;
/** Posted only while the path is cut, nothing after: a hole at the end, which no later number can reveal. */
const TAIL_MESSAGES = 30;
const CLIENTS = 4;
/** What the gateway says when it closes a client that missed messages (the same words as a stream gap). */
const TOLD = /Some messages could not be delivered; reconnect and fetch what you missed/;

/**
 * Issue 22, finding 4. Two gateways, the api carrying everything over the HTTP bridge (streams off), and the api ->
 * gateway B path cut (a TCP proxy refusing) for longer than B's lane keeps envelopes (`laneRetryMs` 2 s): the lane
 * gives envelopes up for B. Stock clients that fill gaps from the REST API, counted per client and per message.
 */
describe('a bridge lane partitioned past its retry bound (api + two gateways as processes, stock clients)', () => {
  let redis: RedisServer | undefined;
  let gateways: ServiceProcess[] = [];
  let api: ServiceProcess | undefined;
  let proxy: FirstLiveProxy | undefined;
  const clients: GapFillingClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await proxy?.close();
    await api?.dispose();
    for (const gateway of gateways) await gateway.dispose();
    await redis?.dispose();
    gateways = [];
    api = proxy = redis = undefined;
  });

  it('tells every affected client of B (reconnectable close) and leaves 0 lost, 0 duplicated, 0 out of order after gap fill; A and the other room untouched', async () => {
    redis = await RedisServer.start();
    const gatewayEnv = (id: string) => ({
      REDIS_URL: redis!.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: id,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    });
    gateways = [await ServiceProcess.start(gatewayEnv('gw-a')), await ServiceProcess.start(gatewayEnv('gw-b'))];
    const [a, b] = gateways;
    proxy = await FirstLiveProxy.start([b.port]);
    const laneA = `${a.baseUrl}${BRIDGE_PATH}`;
    const laneB = `${proxy.url}${BRIDGE_PATH}`;
    api = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      // Streams off: every event goes over the bridge, one lane per gateway.
      REALTIME_USE_REDIS_STREAMS: 'false',
      REALTIME_HTTP_BRIDGE_URL: `${laneA},${laneB}`,
      REALTIME_HTTP_BRIDGE_LANE_RETRY_MS: String(LANE_RETRY_MS),
    });

    const join = async (gateway: ServiceProcess, name: string, room: string) => {
      const client = await new GapFillingClient(
        gateway.hubUrl,
        serviceToken(name),
        room,
        new ChatApi(api!.baseUrl, name),
      ).start();
      const reasons: string[] = [];
      client.client.connection.onreconnecting((error) => reasons.push(error?.message ?? '(no error)'));
      clients.push(client);
      return { name, room, gateway: gateway === a ? 'A' : 'B', client, reasons };
    };
    type Joined = Awaited<ReturnType<typeof join>>;
    const busyA: Joined[] = [];
    const busyB: Joined[] = [];
    for (let i = 0; i < CLIENTS; i++) busyA.push(await join(a, `busy-a${i}`, 'busy'));
    for (let i = 0; i < CLIENTS; i++) busyB.push(await join(b, `busy-b${i}`, 'busy'));
    // A room with nothing published while the path is cut: its clients on B missed nothing and are not told.
    const quietB = [await join(b, 'quiet-b0', 'quiet'), await join(b, 'quiet-b1', 'quiet')];
    const tailA = [await join(a, 'tail-a0', 'tail')];
    const tailB = [await join(b, 'tail-b0', 'tail'), await join(b, 'tail-b1', 'tail')];
    const everyone = [...busyA, ...busyB, ...quietB, ...tailA, ...tailB];

    const poster = new ChatApi(api.baseUrl, 'poster');
    await postSteadily(poster, 'quiet', QUIET_MESSAGES / 2, PER_SECOND);
    const posting = postSteadily(poster, 'busy', BUSY_MESSAGES, PER_SECOND);
    await eventually(() => expect(busyB[0].client.shown.length).toBeGreaterThan(50), 20_000);

    // Cut the api -> B path: open connections die, new ones are closed at once, until the lane has given up some.
    proxy.setRefusing(true);
    proxy.cutAll();
    await postSteadily(poster, 'tail', TAIL_MESSAGES, PER_SECOND);
    await eventually(
      async () =>
        expect(
          exposedMetric(await api!.metrics(), 'realtime_bridge_lane_dropped_total', {
            instance: laneB,
            reason: 'expired',
          }),
        ).toBeGreaterThanOrEqual(TAIL_MESSAGES + 50),
      30_000,
      100,
    );
    proxy.setRefusing(false);
    await eventually(
      async () => expect(exposedMetric(await api!.metrics(), 'realtime_bridge_lane_up', { instance: laneB })).toBe(1),
      30_000,
      100,
    );
    await posting;
    await postSteadily(poster, 'quiet', QUIET_MESSAGES / 2, PER_SECOND);

    const stored: Record<string, StoredMessage[]> = {
      busy: await listAll(poster, 'busy'),
      quiet: await listAll(poster, 'quiet'),
      tail: await listAll(poster, 'tail'),
    };
    expect(stored.busy).toHaveLength(BUSY_MESSAGES);
    expect(stored.quiet).toHaveLength(QUIET_MESSAGES);
    expect(stored.tail).toHaveLength(TAIL_MESSAGES);
    const lastOf = (room: string) => stored[room].at(-1)!.id;
    // Done when every client shows its room's last message and no gap fill runs; a client never told of a hole in
    // the middle shows the last message too, so what it lacks is counted below rather than waited for. A client
    // never told of the tail's hole never shows its last message: the wait ends there, and the counts say why.
    await eventually(
      async () => {
        await Promise.all(everyone.map((c) => c.client.settled()));
        for (const c of everyone) expect(c.client.shown.some((m) => m.id === lastOf(c.room))).toBe(true);
      },
      30_000,
      100,
    ).catch(() => undefined);

    const reports = everyone.map((c) => ({
      client: `${c.gateway}:${c.name}`,
      ...deliveryReport(stored[c.room], c.client.shown),
      liveDuplicates: c.client.liveDuplicates,
      told: c.reasons.filter((reason) => TOLD.test(reason)).length,
      reconnects: c.client.reconnects,
    }));
    const apiMetrics = await api.metrics();
    const [metricsA, metricsB] = [await a.metrics(), await b.metrics()];
    const givenUp = exposedMetric(apiMetrics, 'realtime_bridge_lane_dropped_total', {
      instance: laneB,
      reason: 'expired',
    });
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(
      `lane B gave up ${givenUp} envelopes (laneRetryMs ${LANE_RETRY_MS}); per client: ` +
        reports.map((r) => JSON.stringify(r)).join('\n'),
    );

    for (const report of reports) {
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    }
    for (const report of reports.filter((r) => r.client.startsWith('B:busy') || r.client.startsWith('B:tail'))) {
      expect(report.told).toBeGreaterThanOrEqual(1);
    }
    for (const report of reports.filter((r) => r.client.startsWith('A:') || r.client.includes('quiet'))) {
      expect(report).toMatchObject({ told: 0, reconnects: 0 });
    }
    expect(
      exposedMetric(apiMetrics, 'realtime_bridge_lane_dropped_total', { instance: laneA, reason: 'expired' }),
    ).toBe(0);
    // Every envelope given up for B was reported to B, none refused or left untold.
    expect(
      exposedMetric(apiMetrics, 'realtime_bridge_lane_gave_up_reported_total', { instance: laneB, outcome: 'told' }),
    ).toBe(givenUp);
    // Gateway B counted what it was told and whom it closed; A was told nothing.
    expect(exposedMetric(metricsB, 'realtime_bridge_gave_up_reports_total')).toBeGreaterThanOrEqual(1);
    expect(exposedMetric(metricsB, 'realtime_bridge_gave_up_disconnects_total')).toBeGreaterThanOrEqual(
      busyB.length + tailB.length,
    );
    expect(exposedMetric(metricsA, 'realtime_bridge_gave_up_reports_total')).toBe(0);
  });
});
