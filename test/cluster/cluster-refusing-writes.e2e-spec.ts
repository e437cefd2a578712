import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CqrsModule } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  RealtimeEvent,
  RealtimePublisher,
  RealtimeTransportModule,
  RedisHealthIndicator,
  toGroup,
  TRANSPORT_METRIC,
} from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { SqliteOutboxStore } from '../fixtures/sqlite-outbox.store';
import { RedisCluster } from '../support/redis-cluster';
import { publishSteadily } from '../support/steady-publisher';
import { eventually } from '../support/stream-reader';
import { roomPerShard, SHARDS, slotOfShard, STREAM_KEYS } from './cluster-deployment';
import { registryMetric } from '../support/metrics';

const ROOMS = roomPerShard('refused');

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${ROOMS[e.seq % SHARDS]}`),
})
class MessageCreated {
  constructor(readonly seq: number) {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function streamIds(client: Cluster, key: string): Promise<string[]> {
  const entries = await client.xrange(key, '-', '+');
  return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('e') + 1]) as { id: string }).id);
}

describe('publisher on a Redis Cluster whose one master refuses writes (real 6-node cluster, SQLite outbox, no bridge)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let victim: Redis | undefined;
  let app: TestingModule | undefined;
  let dir: string;
  let store: SqliteOutboxStore;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    client = cluster.client();
    dir = mkdtempSync(join(tmpdir(), 'realtime-cluster-refused-'));
    store = new SqliteOutboxStore(join(dir, 'app.db'));
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    victim?.disconnect();
    client?.disconnect();
    await cluster?.dispose();
  });

  it('maxmemory 1 on one master for 3 s: only its shards stop, the others flow; nothing deferred or lost, each room in order', async () => {
    register.clear();
    app = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        RealtimeTransportModule.forRoot({
          redis: { clusterNodes: cluster.seeds.split(','), shards: SHARDS },
          outbox: { store },
          probeIntervalMs: 100,
          probeTimeoutMs: 1000,
          breaker: { failureThreshold: 3, openMs: 300 },
        }),
      ],
    }).compile();
    await app.init();
    const publisher = app.get(RealtimePublisher);
    const chain = app.get(FallbackChain);
    const health = app.get(RedisHealthIndicator);
    const accepted: string[] = [];
    const accept = (seq: number) =>
      publisher.publishDurably(new MessageCreated(seq), (record) => {
        store.accept({ seq, room: ROOMS[seq % SHARDS], text: `#${seq}` }, record);
        accepted.push(record.id);
      });

    const master = await cluster.masterOf(slotOfShard(0));
    const masters = await Promise.all(STREAM_KEYS.map((_, shard) => cluster.masterOf(slotOfShard(shard))));
    const refused = STREAM_KEYS.filter((_, shard) => masters[shard].port === master.port);
    const others = STREAM_KEYS.filter((key) => !refused.includes(key));
    expect(others.length).toBeGreaterThan(0);
    victim = cluster.server(master.port).client();

    const publishing = publishSteadily(1200, 200, accept);
    await sleep(1000);
    await victim.config('SET', 'maxmemory', '1');
    await expect(victim.set(`${refused[0]}:probe`, 'x')).rejects.toThrow(/^OOM/);
    // The write probe finds the master's shards down on their own; the transport stays up for the others.
    await eventually(async () => {
      const report = (await health.isHealthy()).redis as unknown as { shards: { down: Array<{ stream: string }> } };
      expect(report.shards.down.map((s) => s.stream).sort()).toEqual([...refused].sort());
    }, 5000);
    expect(JSON.stringify((await health.isHealthy()).redis)).toMatch(/Redis refuses writes \(OOM/);
    const lengths = async (keys: string[]) => Promise.all(keys.map((key) => client.xlen(key)));
    const refusedBefore = await lengths(refused);
    const othersBefore = await lengths(others);
    await sleep(3000);
    const refusedAfter = await lengths(refused);
    const othersAfter = await lengths(others);
    expect(chain.activeTransport).toBe('redis-streams');
    await victim.config('SET', 'maxmemory', '0');
    await publishing;
    await eventually(() => expect(store.outboxIds()).toEqual([]), 20_000);

    // While refused, the master's shards took nothing and the others took their share.
    expect(refusedAfter).toEqual(refusedBefore);
    for (let i = 0; i < others.length; i++) expect(othersAfter[i]).toBeGreaterThan(othersBefore[i] + 50);
    const seqOf = new Map(accepted.map((id, seq) => [id, seq]));
    let copies = 0;
    const firstSeen = new Set<string>();
    for (const key of STREAM_KEYS) {
      const ids = await streamIds(client, key);
      const first = ids.filter((id) => !firstSeen.has(id) && firstSeen.add(id));
      copies += ids.length - first.length;
      // Each room (one per shard) reached its stream in the order it was accepted.
      const seqs = first.map((id) => seqOf.get(id)!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    const missing = accepted.filter((id) => !firstSeen.has(id));
    const deferred = await registryMetric(TRANSPORT_METRIC.outboxDeferred);
    const dropped = await registryMetric(TRANSPORT_METRIC.dropped);
    const replayed = await registryMetric(TRANSPORT_METRIC.replayed);
    // eslint-disable-next-line no-console -- the counts are the result
    console.log(
      `one master of 3 at maxmemory 1 for 3 s (shards ${refused.join(', ')}): accepted ${accepted.length}, ` +
        `missing ${missing.length}, copies ${copies} (replayed ${replayed}), deferred ${deferred}, dropped ${dropped}`,
    );
    expect(accepted).toHaveLength(1200);
    expect(missing).toEqual([]);
    expect(deferred).toBe(0);
    // Only replay copies (what the master had acknowledged in the replay window; a refusal loses none of it) may be
    // dropped: without a bridge they have nowhere else to go, and they carry no outbox record.
    expect(dropped).toBeLessThanOrEqual(replayed);
  }, 90_000);
});
