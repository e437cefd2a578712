import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope } from '@realtime-streams/transport';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { TsChild } from '../support/child-process';
import { freePort } from '../support/free-port';
import { RedisServer } from '../support/redis-server';
import { eventually, readStream } from '../support/stream-reader';
import { SqliteOutboxStore } from '../fixtures/sqlite-outbox.store';

const FIXTURE = 'test/fixtures/outbox-publisher-process.ts';

interface Accepted {
  seq: number;
  id: string;
}

/**
 * What the gateways make of what reached Redis: dedup by id (first copy wins), then per room the order of delivery.
 * Reports what the test asserts: lost, duplicated after dedup (none by construction), out of order, raw copies.
 */
function audit(accepted: readonly Accepted[], delivered: readonly Envelope[]) {
  const seen = new Set<string>();
  const firsts: Envelope[] = [];
  let copies = 0;
  for (const envelope of delivered) {
    if (seen.has(envelope.id)) copies++;
    else {
      seen.add(envelope.id);
      firsts.push(envelope);
    }
  }
  const lost = accepted.filter((a) => !seen.has(a.id)).map((a) => a.seq);
  const lastByRoom = new Map<string, number>();
  const outOfOrder: number[] = [];
  for (const envelope of firsts) {
    const room = (envelope.target as { name: string }).name;
    const seq = (envelope.args[0] as { seq: number }).seq;
    if ((lastByRoom.get(room) ?? -1) > seq) outOfOrder.push(seq);
    lastByRoom.set(room, seq);
  }
  const ids = new Set(accepted.map((a) => a.id));
  return { lost, copies, outOfOrder, unknown: firsts.filter((e) => !ids.has(e.id)).length, delivered: firsts.length };
}

describe('durable accept: api kill -9 with accepted events only in memory (real redis-server, real processes, SQLite outbox)', () => {
  let redis: RedisServer;
  let client: Redis | undefined;
  let dir: string;
  let children: TsChild[] = [];

  const start = async (env: Record<string, string>) => {
    const child = new TsChild(FIXTURE, env);
    children.push(child);
    await child.next('ready');
    return child;
  };

  const acceptedBy = (child: TsChild): Accepted[] =>
    child.messages.filter((m) => m.event === 'accepted').flatMap((m) => m.accepted as Accepted[]);

  const killHard = async (child: TsChild) => {
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    child.signal('SIGKILL');
    await exited;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'realtime-outbox-'));
    redis = await RedisServer.start();
  });

  afterEach(async () => {
    for (const child of children) await child.stop();
    children = [];
    client?.disconnect();
    client = undefined;
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every one of 100 events accepted while Redis and the bridge were down, once, in order, after a restart', async () => {
    const env = {
      OUTBOX_DB: join(dir, 'api.db'),
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: `http://127.0.0.1:${await freePort()}/internal/realtime/events`, // unreachable
      REALTIME_BRIDGE_SECRET: 's',
      REALTIME_PROBE_INTERVAL_MS: '100',
      REALTIME_PROBE_TIMEOUT_MS: '200',
      REALTIME_PUBLISH_TIMEOUT_MS: '300',
      REALTIME_BREAKER_OPEN_MS: '200',
      REALTIME_REPLAY_WINDOW_MS: '100',
    };
    const api = await start(env);

    // Some traffic while everything works: delivered, and its records removed.
    api.send({ cmd: 'accept', count: 20 });
    await api.next('accept-done');
    client = redis.client();
    const key = streamKey('realtime', 0);
    await eventually(async () => expect(await readStream(client!, key)).toHaveLength(20));
    const before = await readStream(client, key);
    client.disconnect();
    client = undefined;
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the replay window

    // Redis killed, the bridge unreachable: 100 accepted ("201") anyway, then the api dies without a goodbye.
    await redis.kill();
    api.send({ cmd: 'accept', count: 100 });
    await api.next('accept-done');
    await new Promise((resolve) => setTimeout(resolve, 500)); // the chain tried, failed, and holds them
    api.send({ cmd: 'status' });
    const status = await api.next('status');
    // The 100, plus possibly replays of the first 20 (Redis acknowledged them; they have no record any more).
    expect(status.buffered).toBeGreaterThanOrEqual(100);
    expect(status.outboxRows).toBe(100);
    const accepted = acceptedBy(api);
    expect(accepted).toHaveLength(120);
    await killHard(api);

    // Redis back (empty), the api restarted on the same database: the relay sends what was left.
    await redis.start();
    const restarted = await start(env);
    client = redis.client();
    await eventually(async () => expect((await readStream(client!, key)).length).toBeGreaterThanOrEqual(100), 15_000);
    await eventually(() => {
      const store = new SqliteOutboxStore(env.OUTBOX_DB);
      try {
        expect(store.outboxIds()).toEqual([]);
      } finally {
        store.close();
      }
    }, 10_000);
    const after = await readStream(client, key);
    const report = audit(accepted, [...before, ...after]);
    // eslint-disable-next-line no-console
    console.log(`accepted ${accepted.length}: ${JSON.stringify(report)}`);
    expect(report.lost).toEqual([]);
    expect(report.outOfOrder).toEqual([]);
    expect(report.unknown).toBe(0);
    expect(report.copies).toBe(0); // the first 20 were removed before the crash: nothing sent twice
    expect(after.map((e) => e.id)).toEqual(accepted.slice(20).map((a) => a.id));

    restarted.send({ cmd: 'status' });
    const final = await restarted.next('status');
    expect(final).toMatchObject({ buffered: 0, outboxRows: 0, holding: false });
    expect(final.removeCalls as number).toBeLessThan(10); // 100 records removed in a few batches
  }, 90_000);

  it('a graceful shutdown that cannot publish leaves the events in the outbox, and the next start sends them', async () => {
    const env = {
      OUTBOX_DB: join(dir, 'api.db'),
      REDIS_URL: redis.url,
      REALTIME_PROBE_INTERVAL_MS: '100',
      REALTIME_BREAKER_OPEN_MS: '200',
      REALTIME_SHUTDOWN_TIMEOUT_MS: '300',
    };
    const api = await start(env);
    await redis.kill();
    api.send({ cmd: 'accept', count: 50 });
    await api.next('accept-done');
    const accepted = acceptedBy(api);
    const exited = new Promise((resolve) => api.process.once('exit', resolve));
    api.signal('SIGTERM');
    await exited;
    expect(api.output.join('')).toMatch(
      /50 outboxed envelopes could not be published within 300 ms; they stay in the outbox/,
    );

    await redis.start();
    await start(env);
    client = redis.client();
    await eventually(async () => expect(await client!.xlen(streamKey('realtime', 0))).toBe(50), 10_000);
    const report = audit(accepted, await readStream(client, streamKey('realtime', 0)));
    expect(report).toMatchObject({ lost: [], copies: 0, outOfOrder: [] });
  }, 60_000);

  it('without an outbox (as before) the same crash loses the 100: the finding, reproduced', async () => {
    const env = {
      OUTBOX: 'off',
      OUTBOX_DB: join(dir, 'api.db'),
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: `http://127.0.0.1:${await freePort()}/internal/realtime/events`,
      REALTIME_BRIDGE_SECRET: 's',
      REALTIME_PROBE_INTERVAL_MS: '100',
      REALTIME_BREAKER_OPEN_MS: '200',
    };
    const api = await start(env);
    await redis.kill();
    api.send({ cmd: 'accept', count: 100 });
    await api.next('accept-done');
    await new Promise((resolve) => setTimeout(resolve, 500));
    api.send({ cmd: 'status' });
    expect(await api.next('status')).toMatchObject({ buffered: 100, outboxRows: 0 });
    const accepted = acceptedBy(api);
    await killHard(api);

    await redis.start();
    await start(env);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    client = redis.client();
    const report = audit(accepted, await readStream(client, streamKey('realtime', 0)));
    expect(report.lost).toHaveLength(100);
  }, 60_000);

  it('loses none when killed -9 mid-stream with Redis up and a small buffer; copies only of what was delivered', async () => {
    const env = {
      OUTBOX_DB: join(dir, 'api.db'),
      REDIS_URL: redis.url,
      REALTIME_USE_REDIS_STREAMS: 'true',
      REALTIME_BUFFER_CAPACITY: '20',
      REALTIME_MAX_BATCH_SIZE: '8',
      REALTIME_PROBE_INTERVAL_MS: '100',
    };
    const api = await start(env);
    client = redis.client();
    const key = streamKey('realtime', 0);

    // Redis frozen (SIGSTOP) mid-stream, so the buffer overflows and the outbox spills; the api dies meanwhile,
    // with a batch in flight that Redis appends when it wakes up.
    api.send({ cmd: 'accept', count: 3000, perSecond: 3000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    redis.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.send({ cmd: 'status' });
    expect(await api.next('status')).toMatchObject({ holding: true });
    await killHard(api);
    redis.resume();
    const accepted = acceptedBy(api);
    expect(accepted.length).toBeGreaterThan(500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const beforeRestart = await readStream(client, key);
    expect(beforeRestart.length).toBeLessThan(accepted.length);

    const restarted = await start(env);
    await eventually(async () => {
      const ids = new Set((await readStream(client!, key)).map((e) => e.id));
      expect(accepted.filter((a) => !ids.has(a.id))).toEqual([]);
    }, 20_000);
    await eventually(async () => {
      restarted.send({ cmd: 'status' });
      expect(await restarted.next('status')).toMatchObject({ outboxRows: 0, buffered: 0 });
    }, 10_000);
    const delivered = await readStream(client, key);
    const report = audit(accepted, delivered);
    // eslint-disable-next-line no-console
    console.log(
      `accepted ${accepted.length} (${beforeRestart.length} in Redis at the crash): ${JSON.stringify(report)}`,
    );
    expect(report.lost).toEqual([]);
    expect(report.outOfOrder).toEqual([]);
    // Copies are envelopes Redis had acknowledged whose removal had not run yet: at most a turn or so.
    expect(report.copies).toBeLessThanOrEqual(64);
  }, 90_000);
});
