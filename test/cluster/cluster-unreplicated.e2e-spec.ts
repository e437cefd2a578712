import { PostgresTestDatabase } from '../support/postgres-database';
import { ClusterDeployment, roomPerShard, slotOfShard } from './cluster-deployment';
import { consumerGaps, postToRooms, reportsOf, sleep, totals } from './cluster-reports';

/**
 * The failover Redis Cluster cannot make safe on its own: a master acknowledges appends its replica never gets, then
 * dies, and the replica takes over without them. A deployment of its own: the cluster is left as the test made it.
 */
describe('a master lost with appends its replica never got (real cluster, 2 api + 2 gateway processes)', () => {
  let deployment: ClusterDeployment;
  let database: PostgresTestDatabase;

  beforeAll(async () => {
    database = await PostgresTestDatabase.create();
    deployment = await ClusterDeployment.start(database.url());
  }, 90_000);

  afterAll(async () => {
    await deployment?.dispose();
    await database?.dispose();
  });

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
  }, 90_000);
});
