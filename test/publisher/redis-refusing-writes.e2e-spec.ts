import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { SqliteOutboxStore } from '../fixtures/sqlite-outbox.store';
import { RedisServer } from '../support/redis-server';
import { publishSteadily } from '../support/steady-publisher';
import { eventually, readStream } from '../support/stream-reader';
import { registryMetric } from '../support/metrics';

const ROOMS = 4;

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.seq % ROOMS}`),
})
class MessageCreated {
  constructor(readonly seq: number) {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How one kind of refusal is brought about on a running redis-server, and taken back. */
interface Refusal {
  name: string;
  /** The reply code a write gets meanwhile. */
  code: RegExp;
  refuse(redis: RedisServer, client: Redis): Promise<void>;
  restore(redis: RedisServer, client: Redis): Promise<void>;
}

async function bgsaveStatus(client: Redis): Promise<string | undefined> {
  return /rdb_last_bgsave_status:(\w+)/.exec(await client.info('persistence'))?.[1];
}

/** READONLY: a failover demotes the node; a replica of it is promoted, the node follows it, then it is primary again. */
const other: { server?: RedisServer; client?: Redis } = {};

const REFUSALS: Refusal[] = [
  {
    name: 'OOM (CONFIG SET maxmemory 1 under noeviction)',
    code: /^OOM /,
    refuse: async (_redis, client) => void (await client.config('SET', 'maxmemory', '1')),
    restore: async (_redis, client) => void (await client.config('SET', 'maxmemory', '0')),
  },
  {
    name: 'NOREPLICAS (min-replicas-to-write 1 with no replica)',
    code: /^NOREPLICAS /,
    refuse: async (_redis, client) => void (await client.config('SET', 'min-replicas-to-write', '1')),
    restore: async (_redis, client) => void (await client.config('SET', 'min-replicas-to-write', '0')),
  },
  {
    name: 'MISCONF (a snapshot that failed, stop-writes-on-bgsave-error yes)',
    code: /^MISCONF /,
    refuse: async (redis, client) => {
      // The snapshot cannot be renamed onto a directory (even as root), so BGSAVE fails.
      mkdirSync(join(redis.directory, 'dump.rdb'));
      await client.config('SET', 'save', '3600 1');
      await client.config('SET', 'stop-writes-on-bgsave-error', 'yes');
      await client.bgsave();
      await eventually(async () => expect(await bgsaveStatus(client)).toBe('err'), 10_000, 50);
    },
    restore: async (redis, client) => {
      rmSync(join(redis.directory, 'dump.rdb'), { recursive: true, force: true });
      await client.bgsave();
      await eventually(async () => expect(await bgsaveStatus(client)).toBe('ok'), 10_000, 50);
    },
  },
  {
    name: 'READONLY (a former primary, now a replica)',
    code: /^READONLY /,
    refuse: async (redis, client) => {
      await other.client!.replicaof('NO', 'ONE');
      await client.replicaof('127.0.0.1', other.server!.port);
      await eventually(async () => expect(await client.info('replication')).toMatch(/master_link_status:up/), 10_000);
    },
    restore: async (redis, client) => {
      await client.replicaof('NO', 'ONE');
      await other.client!.replicaof('127.0.0.1', redis.port);
    },
  },
];

describe('publisher against a Redis that answers PING but refuses writes (real redis-server, SQLite outbox, no bridge)', () => {
  let redis: RedisServer;
  let client: Redis;
  let app: TestingModule | undefined;
  let dir: string;
  let store: SqliteOutboxStore;

  beforeEach(async () => {
    redis = await RedisServer.start();
    client = redis.client();
    dir = mkdtempSync(join(tmpdir(), 'realtime-refused-'));
    store = new SqliteOutboxStore(join(dir, 'app.db'));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    store.close();
    rmSync(dir, { recursive: true, force: true });
    client.disconnect();
    other.client?.disconnect();
    await other.server?.dispose();
    other.client = other.server = undefined;
    await redis.dispose();
  });

  it.each(REFUSALS)(
    '$name for 3 s: the breaker stays open, nothing is deferred, every accepted envelope reaches the stream in order',
    async (refusal) => {
      if (refusal.code.source.includes('READONLY')) {
        other.server = await RedisServer.start();
        other.client = other.server.client();
        await other.client.replicaof('127.0.0.1', redis.port);
        await eventually(
          async () => expect(await other.client!.info('replication')).toMatch(/master_link_status:up/),
          10_000,
        );
      }
      register.clear();
      app = await Test.createTestingModule({
        imports: [
          CqrsModule.forRoot(),
          RealtimeTransportModule.forRoot({
            redis: { url: redis.url },
            outbox: { store },
            probeIntervalMs: 100,
            probeTimeoutMs: 500,
            breaker: { failureThreshold: 3, openMs: 300 },
          }),
        ],
      }).compile();
      await app.init();
      const publisher = app.get(RealtimePublisher);
      const chain = app.get(FallbackChain);
      const health = app.get(RedisHealthIndicator);
      const redisLink = chain.link('redis-streams')!;
      const accepted: string[] = [];
      const accept = (seq: number) =>
        publisher.publishDurably(new MessageCreated(seq), (record) => {
          store.accept({ seq, room: `room:${seq % ROOMS}`, text: `#${seq}` }, record);
          accepted.push(record.id);
        });

      const publishing = publishSteadily(1000, 200, accept);
      await sleep(1000);
      await refusal.refuse(redis, client);
      await expect(client.set('realtime-test:write', 'x')).rejects.toThrow(refusal.code);
      await eventually(() => expect(chain.activeTransport).toBe('none'), 5000);
      // From here until Redis takes writes again, the probe never lets the breaker close (a PING would).
      let closedWhileRefusing = 0;
      let refusing = true;
      redisLink.breaker.onChange((state) => {
        if (refusing && state === 'closed') closedWhileRefusing++;
      });
      await sleep(3000);
      const report = await health.isHealthy();
      refusing = false;
      await refusal.restore(redis, client);
      await publishing;
      await eventually(() => expect(chain.activeTransport).toBe('redis-streams'), 10_000);
      await eventually(() => expect(store.outboxIds()).toEqual([]), 15_000);

      expect(closedWhileRefusing).toBe(0);
      expect(report.redis).toMatchObject({ status: 'down' });
      expect(JSON.stringify(report.redis)).toMatch(/Redis refuses writes/);
      // One stream per shard; the default layout has one.
      const entries = await readStream(client, streamKey('realtime', 0));
      const firstSeen: string[] = [];
      const seen = new Set<string>();
      for (const { id } of entries) if (!seen.has(id) && seen.add(id)) firstSeen.push(id);
      const byRoom = (ids: string[]) => {
        const seqOf = new Map(accepted.map((id, seq) => [id, seq]));
        return Array.from({ length: ROOMS }, (_, r) => ids.filter((id) => seqOf.get(id)! % ROOMS === r));
      };
      const replayed = await registryMetric(TRANSPORT_METRIC.replayed);
      const deferred = await registryMetric(TRANSPORT_METRIC.outboxDeferred);
      const dropped = await registryMetric(TRANSPORT_METRIC.dropped);
      // eslint-disable-next-line no-console -- the counts are the result
      console.log(
        `${refusal.name}: accepted ${accepted.length}, in the stream ${seen.size} distinct of ${entries.length} ` +
          `entries (replayed ${replayed}), missing ${accepted.filter((id) => !seen.has(id)).length}, ` +
          `deferred ${deferred}, dropped ${dropped}`,
      );
      expect(accepted).toHaveLength(1000);
      expect(accepted.filter((id) => !seen.has(id))).toEqual([]);
      expect(firstSeen).toHaveLength(1000);
      // Each room's envelopes first reach the stream in the order they were accepted.
      expect(byRoom(firstSeen)).toEqual(byRoom(accepted));
      // Copies only come from the replay of what Redis had acknowledged just before it refused.
      expect(entries.length - seen.size).toBeLessThanOrEqual(replayed);
      expect(deferred).toBe(0);
      expect(dropped).toBe(0);
    },
    60_000,
  );
});
