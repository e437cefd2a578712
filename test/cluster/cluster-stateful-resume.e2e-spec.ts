import { type StoredMessage, serviceToken } from '../support/chat-api';
import { FirstLiveProxy } from '../support/first-live-proxy';
import { listAll, postSteadily } from '../support/post-steadily';
import { PostgresTestDatabase } from '../support/postgres-database';
import { exposedMetric } from '../support/metrics';
import { RoomsClient } from '../support/gap-filling-client';
import type { ServiceProcess } from '../support/service-process';
import { eventually } from '../support/stream-reader';
import { ClusterDeployment, roomPerShard, shardOfRoom, STREAM_KEYS } from './cluster-deployment';
import { sleep } from './cluster-reports';

const MESSAGES = 180;
const PER_SECOND = 30;
/** Clients in one room (one shard), and clients in two rooms on two shards. */
const ONE_ROOM = 3;
const TWO_ROOMS = 2;
const CLIENTS = ONE_ROOM + TWO_ROOMS;

/** A room for the one-room clients and two rooms of other shards for the others. */
function roomsFor(prefix: string): { single: string; pair: [string, string] } {
  const [single, first, second] = roomPerShard(prefix);
  return { single, pair: [first, second] };
}

/**
 * Stock clients with withStatefulReconnect behind a TCP load balancer that sends each new connection to the first
 * live gateway of two, on a real 6-node Redis Cluster (6 shards): a fault in the middle of a 90 msg/s flow (30 per
 * room), every message counted per client and per room. A session that resumes elsewhere is rebuilt from the shards'
 * streams, read node by node.
 */
describe('stateful reconnect on a Redis Cluster (3 masters + 3 replicas, 6 shards, 2 gateways behind a load balancer)', () => {
  let deployment: ClusterDeployment;
  let database: PostgresTestDatabase;
  let proxy: FirstLiveProxy;
  const clients: RoomsClient[] = [];
  /** Gateways a test stopped or killed: started again for the next test. */
  const down: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await PostgresTestDatabase.create();
    deployment = await ClusterDeployment.start(database.url(), { REALTIME_SHUTDOWN_TIMEOUT_MS: '3000' });
    proxy = await FirstLiveProxy.start(deployment.gateways.map((g) => g.port));
  }, 120_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    proxy.cutAll();
    for (const gateway of down.splice(0)) {
      await gateway.start();
      await eventually(async () => {
        const { body } = await gateway.health();
        expect(body.details.realtime_gateway).toMatchObject({ consumer: 'running' });
      }, 30_000);
    }
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await deployment?.dispose();
    await database?.dispose();
  });

  /** Connects the clients through the proxy (all on the first gateway), posts, runs `fault` 2 s in, counts. */
  async function flow(prefix: string, fault: () => Promise<void>) {
    const { single, pair } = roomsFor(prefix);
    expect(shardOfRoom(pair[0])).not.toBe(shardOfRoom(pair[1]));
    const hubUrl = proxy.url + new URL(deployment.gateways[0].hubUrl).pathname;
    const start = async (user: string, rooms: string[]) => {
      const client = new RoomsClient(hubUrl, serviceToken(user), rooms, deployment.apiFor(rooms[0], user), {
        statefulReconnect: true,
      });
      clients.push(client);
      await client.start();
      return client;
    };
    const oneRoom: RoomsClient[] = [];
    const twoRooms: RoomsClient[] = [];
    for (let i = 0; i < ONE_ROOM; i++) oneRoom.push(await start(`${prefix}-one-${i}`, [single]));
    for (let i = 0; i < TWO_ROOMS; i++) twoRooms.push(await start(`${prefix}-two-${i}`, [...pair]));

    const rooms = [single, ...pair];
    const posting = Promise.all(rooms.map((room) => postSteadily(deployment.apiFor(room), room, MESSAGES, PER_SECOND)));
    await sleep(2000);
    await fault();
    await posting.catch((error: unknown) => {
      // A refused post is the api's story, not the gateways': its own log says why.
      for (const api of deployment.apis) console.log(`api log: ${api.output.join('').slice(-4000)}`); // eslint-disable-line no-console
      throw error;
    });
    const stored = new Map<string, StoredMessage[]>();
    for (const room of rooms) {
      stored.set(room, await listAll(deployment.apiFor(room), room));
      expect(stored.get(room)).toHaveLength(MESSAGES);
    }
    // Waits for every client to show every message of its rooms, then counts (a failure names what was lost).
    await eventually(async () => {
      await Promise.all(clients.map((c) => c.settled()));
      for (const client of clients)
        for (const room of client.roomNames) expect(client.shownIn(room).length).toBeGreaterThanOrEqual(MESSAGES);
    }, 30_000).catch(() => undefined);
    await sleep(300);
    const reportOf = (client: RoomsClient, shards: string) => ({
      shards,
      rooms: client.report(stored),
      liveDuplicates: client.liveDuplicates,
      newConnections: client.reconnects,
    });
    const reports = [...oneRoom.map((c) => reportOf(c, 'one')), ...twoRooms.map((c) => reportOf(c, 'two'))];
    // eslint-disable-next-line no-console -- the counts are the result (lost, duplicated, out of order, told)
    console.log(`${prefix}: ${JSON.stringify(reports)}; resumes refused: ${JSON.stringify(await refusals())}`);
    for (const report of reports) {
      expect(report.liveDuplicates).toBe(0);
      for (const room of report.rooms) expect(room).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    }
    return {
      oneRoom: reports.filter((r) => r.shards === 'one'),
      twoRooms: reports.filter((r) => r.shards === 'two'),
    };
  }

  const metric = async (gateway: ServiceProcess, name: string, labels: Record<string, string>) =>
    exposedMetric(await gateway.metrics(), name, labels);

  /** Resumes refused so far, by gateway and reason (what a client that started over was told). */
  const refusals = async () => {
    const byGateway: Record<string, string[]> = {};
    for (const [i, gateway] of deployment.gateways.entries()) {
      const text = await gateway.metrics().catch(() => '');
      byGateway[`gw-${i}`] = text
        .split('\n')
        .filter((line) => line.startsWith('realtime_hub_resume_failures_total{') && !line.endsWith(' 0'));
    }
    return byGateway;
  };

  const resumedOn = (gateway: ServiceProcess, instance: 'same' | 'other') =>
    metric(gateway, 'realtime_hub_sessions_resumed_total', { instance });

  const refusedOn = (gateway: ServiceProcess, reason: string) =>
    metric(gateway, 'realtime_hub_resume_failures_total', { reason });

  it('a socket cut mid-flow resumes on the same gateway: exact, no new connection', async () => {
    const [first] = deployment.gateways;
    const before = await resumedOn(first, 'same');
    const { oneRoom, twoRooms } = await flow('cut', async () => proxy.cutAll());
    for (const report of [...oneRoom, ...twoRooms]) expect(report.newConnections).toBe(0);
    expect((await resumedOn(first, 'same')) - before).toBe(CLIENTS);
  }, 120_000);

  it("SIGTERM of the clients' gateway hands the sessions over: they resume on the other one, exact, rooms on one shard or two", async () => {
    const [first, second] = deployment.gateways;
    const before = await resumedOn(second, 'other');
    const { oneRoom, twoRooms } = await flow('deploy', async () => {
      down.push(first);
      await first.stop();
    });
    for (const report of [...oneRoom, ...twoRooms]) expect(report.newConnections).toBe(0);
    expect((await resumedOn(second, 'other')) - before).toBe(CLIENTS);
  }, 120_000);

  it("kill -9 of the clients' gateway: one-room sessions resume on the other one from the checkpoint and the stream, exact; two-room ones exact or told", async () => {
    const [first, second] = deployment.gateways;
    const resumedBefore = await resumedOn(second, 'other');
    const refusedBefore = await refusedOn(second, 'several_shards');
    const { oneRoom, twoRooms } = await flow('crash', async () => {
      down.push(first);
      await first.kill();
    });
    for (const report of oneRoom) expect(report.newConnections).toBe(0);
    // Two rooms on two shards: exact only when the entries after the checkpoint are on one shard; otherwise the
    // resume is refused (404) and the client starts over and re-fetches (0 lost above). Each refusal is counted.
    const told = twoRooms.filter((r) => r.newConnections > 0).length;
    for (const report of twoRooms) expect(report.newConnections).toBeLessThanOrEqual(1);
    expect((await refusedOn(second, 'several_shards')) - refusedBefore).toBe(told);
    expect((await resumedOn(second, 'other')) - resumedBefore).toBe(CLIENTS - told);
  }, 120_000);

  it('kill -9 after a stall, with entries for a two-room session on both shards it never read: that session is told, the others resume exactly', async () => {
    const [first, second] = deployment.gateways;
    const { pair } = roomsFor('stall');
    const resumedBefore = await resumedOn(second, 'other');
    const refusedBefore = await refusedOn(second, 'several_shards');
    const { oneRoom, twoRooms } = await flow('stall', async () => {
      down.push(first);
      const admin = deployment.cluster.client();
      try {
        const keys = pair.map((room) => STREAM_KEYS[shardOfRoom(room)]);
        first.signal('SIGSTOP');
        // Both shards take entries the stalled gateway never reads: after any checkpoint of the two-room sessions.
        const lengths = await Promise.all(keys.map((key) => admin.xlen(key)));
        await eventually(async () => {
          for (const [i, key] of keys.entries()) expect(await admin.xlen(key)).toBeGreaterThan(lengths[i]);
        }, 20_000);
      } finally {
        admin.disconnect();
        await first.kill();
      }
    });
    for (const report of oneRoom) expect(report.newConnections).toBe(0);
    for (const report of twoRooms) expect(report.newConnections).toBe(1);
    expect((await refusedOn(second, 'several_shards')) - refusedBefore).toBe(TWO_ROOMS);
    expect((await resumedOn(second, 'other')) - resumedBefore).toBe(ONE_ROOM);
  }, 120_000);
});
