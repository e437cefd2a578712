/**
 * What reading a shard costs a gateway that delivers nothing from it: every gateway reads every shard (its own
 * consumer group), so on a deployment of G gateways each event is read G times, by G - 1 of them for nobody when
 * its room lives on one. Measures, in one run on one machine:
 *   - gateway: CPU µs per stream entry read with no client connected (XREADGROUP, XACK, the routing key looked up:
 *     an entry for nobody is not parsed), from the gateway process's CPU time (/proc) minus its idle CPU;
 *   - floor: a bare ioredis consumer group reading and acknowledging the same entries, without parsing;
 *   - Redis memory per entry (MEMORY USAGE of the stream), for the retention arithmetic in the README.
 *
 *   npm run bench:fan-in [-- --entries 50000 --text-bytes 120]
 *   npm run bench:fan-in -- --rate 300 [--seconds 10]
 *       the fixed cost of a read: entries appended one at a time at that rate, so each blocking read brings about
 *       one (a gateway with no member of the rooms at 300 msg/s on a deployment of many gateways); gateway CPU per
 *       read against a bare consumer process doing the same blocking reads (with XACK, and with NOACK as interest
 *       routing reads), all measured from /proc in the same run.
 *
 * The gateway reads with interest routing on (the default): one client is connected (it joins no room), so the
 * gateway reads the only shard, and every entry is for a room with no member here.
 *
 * Prints a table and writes bench/results/fan-in.json.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sequenceKeyOf, streamKey } from '@realtime-streams/contracts';
import Redis from 'ioredis';
import { HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { serviceToken } from '../test/support/chat-api';
import { TsChild } from '../test/support/child-process';
import { RedisServer } from '../test/support/redis-server';
import { ServiceProcess } from '../test/support/service-process';
import { cpuMicros } from './support/process-usage';
import { machine, printTable, writeResult } from './support/report';

const KEY = streamKey('realtime', 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A chat message envelope as the reference service publishes it. */
function envelopeJson(n: number, textBytes: number): string {
  const text = 'x'.repeat(textBytes);
  const message = {
    id: `m-${n}`,
    roomId: `room-${n % 100}`,
    userId: 'bench',
    text,
    createdAt: new Date().toISOString(),
  };
  return JSON.stringify({
    v: 1,
    id: `0190c1f2-${String(n).padStart(4, '0')}-7000-8000-${randomBytes(6).toString('hex')}`,
    type: 'chat.message.created',
    target: { kind: 'group', name: `room:room-${n % 100}` },
    method: 'ReceiveMessage',
    args: [{ ...message, acceptedAt: Date.now() }],
    ts: Date.now(),
    volatile: false,
  });
}

/** Appends `count` numbered entries as the publisher does (fields e, n and t, the counter beside the stream). */
async function append(redis: Redis, count: number, textBytes: number, from: number): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const pipeline = redis.pipeline();
    const batch = Math.min(1000, count - start);
    for (let i = 0; i < batch; i++) {
      const n = from + start + i + 1;
      // As the publisher writes them: the envelope, its number, its routing key (what a gateway skips an entry on).
      pipeline.xadd(KEY, '*', 'e', envelopeJson(n, textBytes), 'n', String(n), 't', `group:room:room-${n % 100}`);
    }
    pipeline.incrby(sequenceKeyOf(KEY), batch);
    await pipeline.exec();
  }
}

/** Until the group has read every entry (lag 0 and nothing pending). */
async function waitUntilRead(redis: Redis, group: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const groups = (await redis.xinfo('GROUPS', KEY)) as unknown[][];
    const info = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g.name === group);
    if (info && info.lag === 0 && info.pending === 0) return;
    await sleep(20);
  }
  throw new Error(`group ${group} did not catch up in ${timeoutMs} ms`);
}

function chunk(fields: unknown[]): Array<[unknown, unknown]> {
  const pairs: Array<[unknown, unknown]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  return pairs;
}

/** The floor: read and acknowledge every entry from `0` in batches of 100, nothing else. */
async function floorMicrosPerEntry(redis: Redis, entries: number): Promise<number> {
  await redis.xgroup('CREATE', KEY, 'floor', '0');
  const started = process.cpuUsage();
  let read = 0;
  while (read < entries) {
    const reply = (await redis.xreadgroup('GROUP', 'floor', 'c', 'COUNT', 100, 'STREAMS', KEY, '>')) as Array<
      [string, Array<[string, string[]]>]
    > | null;
    const batch = reply?.[0]?.[1] ?? [];
    if (batch.length === 0) break;
    await redis.xack(KEY, 'floor', ...batch.map(([id]) => id));
    read += batch.length;
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / read;
}

/** A client that joins nothing: with interest routing, what makes the gateway read the (only) shard. */
async function connectBystander(hubUrl: string) {
  const connection = new HubConnectionBuilder()
    .withUrl(hubUrl, { accessTokenFactory: () => serviceToken('bystander') })
    .configureLogging(LogLevel.None)
    .build();
  await connection.start();
  return connection;
}

/**
 * The fixed cost of a read: one entry at a time at `rate` per second for `seconds`, read by the gateway and by two
 * bare consumer processes (XACK, NOACK); CPU µs per entry of each, from /proc, their idle CPU subtracted.
 */
async function rateMode(
  redis: Redis,
  serverUrl: string,
  gatewayPid: number,
  rate: number,
  seconds: number,
  textBytes: number,
) {
  const floors = await Promise.all(
    ['0', '1'].map(async (noAck) => {
      const child = new TsChild('bench/fan-in/floor-reader.process.ts', {
        REDIS_URL: serverUrl,
        STREAM_KEY: KEY,
        NOACK: noAck,
      });
      await child.next('ready');
      return { child, pid: child.process.pid!, noAck: noAck === '1' };
    }),
  );
  const pids = [gatewayPid, ...floors.map((f) => f.pid)];
  const idleStart = pids.map(cpuMicros);
  await sleep(2000);
  const idlePerMs = pids.map((pid, i) => (cpuMicros(pid) - idleStart[i]) / 2000);
  // Warm-up at the same rate, then the measured window.
  const drive = async (count: number, from: number) => {
    const interval = 1000 / rate;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const n = from + i + 1;
      await redis
        .multi()
        .xadd(KEY, '*', 'e', envelopeJson(n, textBytes), 'n', String(n), 't', `group:room:room-${n % 100}`)
        .incr(sequenceKeyOf(KEY))
        .exec();
    }
  };
  await drive(rate, 0);
  await sleep(500);
  const before = pids.map(cpuMicros);
  const startedAt = Date.now();
  const count = rate * seconds;
  await drive(count, rate);
  await sleep(500);
  const elapsedMs = Date.now() - startedAt;
  const perEntry = pids.map((pid, i) => (cpuMicros(pid) - before[i] - idlePerMs[i] * elapsedMs) / count);
  for (const floor of floors) floor.child.process.kill('SIGKILL');
  return { count, elapsedMs, gatewayUs: perEntry[0], ackFloorUs: perEntry[1], noAckFloorUs: perEntry[2] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '50000' },
      'text-bytes': { type: 'string', default: '120' },
      rate: { type: 'string' },
      seconds: { type: 'string', default: '10' },
    },
  });
  const entries = Number(values.entries);
  const textBytes = Number(values['text-bytes']);
  const server = await RedisServer.start();
  const redis = server.client();
  const gateway = await ServiceProcess.start(
    {
      REDIS_URL: server.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: 'fan-in',
      REALTIME_BRIDGE_RECEIVER: 'false',
      REALTIME_CONSUMER_BLOCK_MS: '5000',
    },
    '',
    // BENCH_CPU_PROF=<dir>: the gateway writes a CPU profile there (as in `npm run bench`).
    process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
  );
  const bystander = await connectBystander(gateway.hubUrl);
  try {
    const pid = gateway.pid!;
    if (values.rate) {
      const rate = Number(values.rate);
      const result = await rateMode(redis, server.url, pid, rate, Number(values.seconds), textBytes);
      const m = machine();
      console.log(
        `\nThe fixed cost of a read: ${result.count.toLocaleString('en-US')} entries appended one at a time at ` +
          `${rate}/s (about one per read), for rooms with no member on the gateway; ${m.cpus} CPUs (${m.cpuModel}), ` +
          `shared machine, load ${m.loadAverage.join(', ')}\n`,
      );
      printTable([
        { reader: 'gateway (interest routing: XREADGROUP NOACK, routing key)', 'CPU µs/read': round(result.gatewayUs) },
        { reader: 'floor: bare blocking XREADGROUP + XACK', 'CPU µs/read': round(result.ackFloorUs) },
        { reader: 'floor: bare blocking XREADGROUP NOACK', 'CPU µs/read': round(result.noAckFloorUs) },
      ]);
      console.log(`\ngateway / XACK floor: ${round(result.gatewayUs / result.ackFloorUs)}x`);
      const file = writeResult('fan-in-rate', {
        date: new Date().toISOString(),
        machine: m,
        rate,
        entries: result.count,
        gatewayMicrosPerRead: round(result.gatewayUs),
        ackFloorMicrosPerRead: round(result.ackFloorUs),
        noAckFloorMicrosPerRead: round(result.noAckFloorUs),
        ratio: round(result.gatewayUs / result.ackFloorUs),
        elapsedMs: result.elapsedMs,
      });
      console.log(`Wrote ${file}`);
      return;
    }
    // Idle CPU (timers, monitor) over a few seconds: subtracted from the read's.
    const idleStart = cpuMicros(pid);
    await sleep(3000);
    const idlePerMs = (cpuMicros(pid) - idleStart) / 3000;

    // Warm-up: JIT and buffers, not measured.
    await append(redis, 5000, textBytes, 0);
    await waitUntilRead(redis, 'gateway:fan-in');
    const before = cpuMicros(pid);
    const startedAt = Date.now();
    await append(redis, entries, textBytes, 5000);
    await waitUntilRead(redis, 'gateway:fan-in');
    const elapsedMs = Date.now() - startedAt;
    const gatewayUs = (cpuMicros(pid) - before - idlePerMs * elapsedMs) / entries;

    const floorUs = await floorMicrosPerEntry(redis, entries + 5000);
    const streamBytes = Number(await redis.call('MEMORY', 'USAGE', KEY, 'SAMPLES', '0'));
    const bytesPerEntry = streamBytes / (entries + 5000);
    const envelopeBytes = Buffer.byteLength(envelopeJson(1, textBytes));

    const m = machine();
    console.log(
      `\nReading a shard for nobody: ${entries.toLocaleString('en-US')} entries of ${envelopeBytes} bytes, ` +
        `one gateway with no client; ${m.cpus} CPUs (${m.cpuModel}), shared machine, load ${m.loadAverage.join(', ')}\n`,
    );
    const rows = [
      {
        reader: 'gateway (XREADGROUP + XACK + routing key; parse only when wanted)',
        'CPU µs/entry': round(gatewayUs),
        'entries/s per core': Math.round(1e6 / gatewayUs),
      },
      {
        reader: 'floor (bare XREADGROUP + XACK)',
        'CPU µs/entry': round(floorUs),
        'entries/s per core': Math.round(1e6 / floorUs),
      },
    ];
    printTable(rows);
    console.log(`\ngateway / floor: ${round(gatewayUs / floorUs)}x`);
    console.log(`Redis memory: ${Math.round(bytesPerEntry)} bytes per entry (envelope ${envelopeBytes} bytes)`);
    const file = writeResult('fan-in', {
      date: new Date().toISOString(),
      machine: m,
      entries,
      envelopeBytes,
      gatewayMicrosPerEntry: round(gatewayUs),
      floorMicrosPerEntry: round(floorUs),
      ratio: round(gatewayUs / floorUs),
      redisBytesPerEntry: Math.round(bytesPerEntry),
      elapsedMs,
    });
    console.log(`Wrote ${file}`);
  } finally {
    await bystander.stop();
    await gateway.dispose();
    redis.disconnect();
    await server.dispose();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
