import { Logger } from '@nestjs/common';
import { GATEWAY_METRIC } from '@realtime-streams/gateway';
import { MISSED_ENTRIES_REASON, StreamConsumer } from '@realtime-streams/gateway/testing';
import { sequenceKeyOf, streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, sleep } from './support';

const KEY = streamKey('realtime', 0);

const metric = async (name: string) =>
  ((await register.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);

/**
 * The gap check on entry numbers, with entries written the way the publisher's script writes them (`e`, `n`, the
 * counter next to the stream) or the way older publishers and other producers do (no `n`).
 */
describe('stream gaps by entry number (real redis-server, stock clients)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp | undefined;
  const clients: TestClient[] = [];

  /** Appends one entry to everyone, numbered `n` (and the counter set to it) or unnumbered. */
  const append = async (label: string, n?: number | string) => {
    const json = JSON.stringify(envelope({ kind: 'all' }, [label]));
    if (n === undefined) return admin.xadd(KEY, '*', 'e', json);
    if (typeof n === 'number') await admin.set(sequenceKeyOf(KEY), n);
    return admin.xadd(KEY, '*', 'e', json, 'n', String(n));
  };
  const connect = async (user: string) => {
    const client = await new TestClient(gw!.hubUrl, tokenFor(user), { reconnect: true }).start();
    const closes: string[] = [];
    client.connection.onreconnecting((error) => closes.push(error?.message ?? ''));
    clients.push(client);
    return { client, closes, labels: () => client.of('ReceiveMessage').map(([label]) => label) };
  };
  /** Interest routing on (the default), unless a test is about a gateway that reads every shard from start. */
  const start = async (instanceId = 'gaps', interestRouting = true) => {
    gw = await startGatewayApp({
      instanceId,
      redis: { url: redis.url, interestRouting, blockMs: 200, monitorIntervalMs: 60_000 },
    });
    return gw;
  };

  beforeEach(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await gw?.close();
    gw = undefined;
    admin.disconnect();
    await redis.dispose();
  });

  it('counts a jump in numbers exactly, logs the range, and closes every connection reconnectably before delivering past it', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error');
    await start();
    const alice = await connect('alice');
    const bob = await connect('bob');
    await append('one', 1);
    await append('two', 2);
    await eventually(() => expect(alice.labels()).toEqual(['one', 'two']));

    await append('six', 6); // 3, 4 and 5 never reached this gateway
    await eventually(() => {
      expect(alice.closes).toEqual([expect.stringContaining(MISSED_ENTRIES_REASON)]);
      expect(bob.closes).toEqual([expect.stringContaining(MISSED_ENTRIES_REASON)]);
    });
    await eventually(() =>
      expect([alice.client.connection.state, bob.client.connection.state]).toEqual(['Connected', 'Connected']),
    );
    await append('seven', 7);
    await eventually(() => expect(bob.labels()).toEqual(['one', 'two', 'seven']));
    // Nothing from after the gap reached a connection before it was told: "six" is for the gap fill.
    expect(alice.labels()).toEqual(['one', 'two', 'seven']);

    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(3);
    expect(await metric(GATEWAY_METRIC.gapDisconnects)).toBe(2);
    expect(errors.mock.calls.map(([message]) => String(message))).toEqual(
      expect.arrayContaining([expect.stringMatching(/Missed 3 entries of realtime:\{0\} \(n 3\.\.5\)/)]),
    );
  });

  it('delivers entries without a number (older publishers, other producers) unchecked and never crashes on a bad one', async () => {
    await start();
    const alice = await connect('alice');
    await append('a', 1);
    await append('b');
    await append('c', 'not-a-number');
    await append('d', '0');
    await append('d2', '-4');
    await append('d3', '99999999999999999999');
    await append('e', 2);
    await append('f', '');
    await append('g', 3);
    await eventually(() => expect(alice.labels()).toEqual(['a', 'b', 'c', 'd', 'd2', 'd3', 'e', 'f', 'g']));
    await sleep(200);
    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(0);
    expect(alice.closes).toEqual([]);
  });

  it('starts counting from the counter when its group is created, so entries before it are no gap', async () => {
    for (let n = 1; n <= 50; n++) await append(`old-${n}`, n);
    await start();
    const alice = await connect('alice');
    await append('new', 51);
    await eventually(() => expect(alice.labels()).toEqual(['new']));
    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(0);
    expect(gw!.app.get(StreamConsumer).sequences.lastSequence(KEY)).toBe(51);
  });

  // A routed gateway has no member right after a restart: it reads nothing until one joins, from that moment on.
  it('an instance restarted under the same id counts what it missed while it was down, from its group position (routing off)', async () => {
    await start('restarted', false);
    await append('one', 1);
    await eventually(() => expect(gw!.app.get(StreamConsumer).delivered).toBe(1));
    await gw!.close();
    const ids: string[] = [];
    for (let n = 2; n <= 101; n++) ids.push((await append(`n-${n}`, n))!);
    // 2..90 gone before it came back (trimmed, deleted: the same to the gateway); its own last entry (1) is still there.
    await admin.xdel(KEY, ...ids.slice(0, 89));
    await start('restarted', false);
    const consumer = gw!.app.get(StreamConsumer);
    await eventually(() => expect(consumer.sequences.lastSequence(KEY)).toBe(101));
    expect(consumer.delivered).toBe(11);
    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(89);
  });

  it('a stream numbered again from 1 (Redis lost its counter) is reported and clients are told', async () => {
    await start();
    const alice = await connect('alice');
    await append('one', 1);
    await append('two', 2);
    await eventually(() => expect(alice.labels()).toEqual(['one', 'two']));
    await append('again', 1);
    await eventually(() => expect(alice.closes).toEqual([expect.stringContaining(MISSED_ENTRIES_REASON)]));
    expect(await metric(GATEWAY_METRIC.consumerGaps)).toBe(1);
    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(0);
    await append('next', 2);
    await eventually(() => expect(gw!.app.get(StreamConsumer).sequences.lastSequence(KEY)).toBe(2));
    expect(await metric(GATEWAY_METRIC.gapEntries)).toBe(0);
  });
});
