import { deliveryReport, type GapFillingClient } from '../support/gap-filling-client';
import { listAll, postSteadily } from '../support/post-steadily';
import { eventually } from '../support/stream-reader';
import { PostgresTestDatabase } from '../support/postgres-database';
import { ClusterDeployment, roomPerShard, shardOfRoom, slotOfShard, STREAM_KEYS } from './cluster-deployment';

/** Posts `count` numbered messages to every room at `perSecond` in all, each room through its own api. */
async function postToRooms(deployment: ClusterDeployment, rooms: readonly string[], count: number, perSecond: number) {
  await Promise.all(rooms.map((room) => postSteadily(deployment.apiFor(room), room, count, perSecond / rooms.length)));
}

/** Every client of every room shows every stored message of its room once, in order; the counts per client. */
async function reportsOf(deployment: ClusterDeployment, byRoom: Map<string, GapFillingClient[]>, expected: number) {
  const reports = [];
  for (const [room, clients] of byRoom) {
    const stored = await listAll(deployment.apiFor(room), room);
    expect(stored).toHaveLength(expected);
    // One store: the other api lists the same messages, in the same order.
    const listedByOther = await listAll(deployment.otherApiFor(room), room);
    expect(listedByOther.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    await eventually(async () => {
      await Promise.all(clients.map((c) => c.settled()));
      for (const client of clients) expect(client.shown.length).toBeGreaterThanOrEqual(expected);
    }, 20_000);
    for (const client of clients)
      reports.push({
        room,
        ...deliveryReport(stored, client.shown),
        liveDuplicates: client.liveDuplicates,
        reconnects: client.reconnects,
      });
  }
  return reports;
}

/** `realtime_consumer_gaps_total` summed over the gateways. */
async function consumerGaps(deployment: ClusterDeployment): Promise<number> {
  let sum = 0;
  for (const gateway of deployment.gateways) {
    const match = /^realtime_consumer_gaps_total(?:\{[^}]*\})? (\d+)/m.exec(await gateway.metrics());
    sum += Number(match?.[1] ?? 0);
  }
  return sum;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Report = { lost: number; duplicated: number; outOfOrder: number; reconnects: number };

/** The per-client reports summed, with how many clients they cover. */
function totals(reports: Report[]): Report & { clients: number } {
  const sum = { clients: 0, lost: 0, duplicated: 0, outOfOrder: 0, reconnects: 0 };
  for (const r of reports) {
    sum.clients++;
    sum.lost += r.lost;
    sum.duplicated += r.duplicated;
    sum.outOfOrder += r.outOfOrder;
    sum.reconnects += r.reconnects;
  }
  return sum;
}

describe('scale-out on a Redis Cluster (3 masters + 3 replicas, 6 shards, 2 api + 2 gateway processes)', () => {
  let deployment: ClusterDeployment;
  let database: PostgresTestDatabase;

  beforeAll(async () => {
    database = await PostgresTestDatabase.create();
    deployment = await ClusterDeployment.start(database.url());
  }, 90_000);

  afterEach(async () => {
    await deployment?.disconnectClients();
  });

  afterAll(async () => {
    await deployment?.dispose();
    await database?.dispose();
  });

  it('delivers to clients on both gateways once, in order per room, with the shards on all three masters', async () => {
    const rooms = roomPerShard('spread');
    const byRoom = await deployment.connect(rooms, 2);
    await postToRooms(deployment, rooms, 30, 200);
    const reports = await reportsOf(deployment, byRoom, 30);
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`cluster delivery: ${JSON.stringify(totals(reports))}`);
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, reconnects: 0 });

    const owners = await Promise.all(
      STREAM_KEYS.map(async (_, shard) => (await deployment.cluster.masterOf(slotOfShard(shard))).port),
    );
    expect(new Set(owners).size).toBe(3);
    const admin = deployment.cluster.client();
    try {
      for (const [shard, key] of STREAM_KEYS.entries()) {
        expect(await admin.xlen(key)).toBe(rooms.filter((room) => shardOfRoom(room) === shard).length * 30);
      }
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  it('loses nothing when a master is killed (kill -9) during a 100 msg/s flow: its replica takes over', async () => {
    const rooms = roomPerShard('failover');
    const byRoom = await deployment.connect(rooms, 1);
    const victimShard = 0;
    const victim = await deployment.cluster.masterOf(slotOfShard(victimShard));
    const posting = postToRooms(deployment, rooms, 100, 100);
    await sleep(2000);
    const killedAt = Date.now();
    await deployment.cluster.kill(victim.port);
    await posting;
    const reports = await reportsOf(deployment, byRoom, 100);

    const promoted = await deployment.cluster.masterOf(slotOfShard(victimShard));
    expect(promoted.port).not.toBe(victim.port);
    const admin = deployment.cluster.client();
    let resumeMs: number;
    try {
      const entries = (await admin.xrange(STREAM_KEYS[victimShard], killedAt, '+', 'COUNT', 1)) as unknown as Array<
        [string]
      >;
      expect(entries).toHaveLength(1);
      resumeMs = Number(entries[0][0].split('-')[0]) - killedAt;
      // Meanwhile the shards of the other masters kept taking appends: only the dead master's shards stopped.
      for (const [shard, key] of STREAM_KEYS.entries()) {
        if ((await deployment.cluster.masterOf(slotOfShard(shard))).port === promoted.port) continue;
        const during = await admin.xrange(key, killedAt + 200, killedAt + resumeMs - 200);
        expect(during.length).toBeGreaterThan(0);
      }
    } finally {
      admin.disconnect();
    }
    // eslint-disable-next-line no-console -- the counts and the time to resume are the result
    console.log(
      `master failover: ${JSON.stringify(totals(reports))}; its shard took appends again ${resumeMs} ms after the kill`,
    );
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    await deployment.cluster.restart(victim.port);
    await deployment.cluster.waitUntilOk();
  }, 90_000);

  it('loses nothing when the slot of a shard moves to another master (CLUSTER SETSLOT + MIGRATE) during a flow', async () => {
    const rooms = roomPerShard('reshard');
    const byRoom = await deployment.connect(rooms, 1);
    const movedShard = 1;
    const slot = slotOfShard(movedShard);
    const source = await deployment.cluster.masterOf(slot);
    const target = (await deployment.cluster.masters()).find((m) => m.port !== source.port)!;
    const posting = postToRooms(deployment, rooms, 100, 100);
    await sleep(1500);
    await deployment.cluster.moveSlot(slot, target.port);
    await posting;
    const reports = await reportsOf(deployment, byRoom, 100);
    expect((await deployment.cluster.masterOf(slot)).port).toBe(target.port);
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`resharding: ${JSON.stringify(totals(reports))}`);
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    const admin = deployment.cluster.client();
    try {
      const inStream = await admin.xlen(STREAM_KEYS[movedShard]);
      expect(inStream).toBeGreaterThanOrEqual(100);
    } finally {
      admin.disconnect();
    }
  }, 90_000);

  it('falls back to the bridge when the whole cluster is down, and back to the streams once it is up', async () => {
    const rooms = roomPerShard('outage');
    const byRoom = await deployment.connect(rooms, 1);
    const posting = postToRooms(deployment, rooms, 120, 60);
    await sleep(2000);
    await deployment.cluster.killAll();
    await eventually(async () => {
      const { body } = await deployment.gateways[0].health();
      expect(body.details.realtime_gateway).toMatchObject({ consumer: 'failing', degraded: true });
      expect(body.details.realtime_gateway.shards.failing).toHaveLength(6);
      const api = await deployment.apis[0].health();
      expect(api.body.details.redis).toMatchObject({ reachable: false });
    }, 10_000);
    await sleep(2000);
    await deployment.cluster.restartAll();
    const restartedAt = Date.now();
    await posting;
    const reports = await reportsOf(deployment, byRoom, 120);
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`whole-cluster outage: ${JSON.stringify(totals(reports))}`);
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    // Back on the streams: what was posted after the restart is in them (the restarted nodes came back empty).
    await eventually(async () => {
      const { body } = await deployment.gateways[0].health();
      expect(body.details.realtime_gateway).toMatchObject({ consumer: 'running' });
      expect(body.details.realtime_gateway.shards.failing).toEqual([]);
    }, 15_000);
    const admin = deployment.cluster.client();
    try {
      let appended = 0;
      for (const key of STREAM_KEYS) appended += (await admin.xrange(key, restartedAt, '+')).length;
      expect(appended).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }
  }, 90_000);

  it('loses nothing when a master dies with appends its replica never got, a gateway stalled meanwhile: the publisher replays them', async () => {
    const rooms = roomPerShard('unreplicated');
    const byRoom = await deployment.connect(rooms, 1);
    const victimShard = 2;
    const victim = await deployment.cluster.masterOf(slotOfShard(victimShard));
    const replica = await deployment.cluster.replicaOf(victim);
    const gapsBefore = await consumerGaps(deployment);
    const posting = postToRooms(deployment, rooms, 100, 100);
    await sleep(1500);
    // One gateway stalls (SIGSTOP): it will not have read what the master is about to lose.
    const stalled = deployment.gateways[1];
    stalled.signal('SIGSTOP');
    // The replica is frozen and its link cut: what the master acknowledges from now on exists only there.
    deployment.cluster.server(replica.port).pause();
    await deployment.cluster.dropReplicationLinks(victim.port);
    await sleep(500);
    await deployment.cluster.kill(victim.port);
    deployment.cluster.server(replica.port).resume();
    await sleep(1000);
    stalled.signal('SIGCONT');
    await posting;
    const reports = await reportsOf(deployment, byRoom, 100);
    expect((await deployment.cluster.masterOf(slotOfShard(victimShard))).port).toBe(replica.port);
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(`unreplicated appends lost with their master: ${JSON.stringify(totals(reports))}`);
    for (const report of reports)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, liveDuplicates: 0 });
    // The gateways saw the shard's numbering go back (its tail was lost) and said so, without closing anyone.
    expect((await consumerGaps(deployment)) - gapsBefore).toBeGreaterThan(0);
    await deployment.cluster.restart(victim.port);
    await deployment.cluster.waitUntilOk();
  }, 90_000);
});
