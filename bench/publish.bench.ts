/**
 * Publish benchmark: events/s and latency from EventBus.publish to the transport's acknowledgement, for
 * redis-streams and http-bridge, at a fixed open-loop rate and at saturation.
 *
 *   npm run bench:publish [-- --seconds 5 --rate 5000 --window 2000 --transport redis-streams --mode rate --outbox]
 *   npm run bench:publish -- --cluster [--seconds 5 --rate 5000 --window 2000]
 *
 * `--outbox` runs every scenario twice in the same run: as before, and with durable accept (each event published
 * with `publishDurably`, its record inserted into an SQLite outbox in a temp file, in its own transaction, as an
 * application would; `--outbox-store memory` uses an in-memory store instead, to isolate the library's share).
 *
 * `--cluster` runs only a comparison instead: Redis Streams on a single redis-server vs a local 6-node Redis Cluster
 * (3 masters, 3 replicas), 6 shards and 1000 rooms each, open loop at `--rate` and at saturation (`--window`), with
 * the CPU each side spends per event. It writes bench/results/publish-cluster.json; `npm run bench -- --cluster`
 * runs it after the end-to-end comparison, into bench/results/cluster.json.
 *
 * Starts its own redis-server (or uses REDIS_URL; not with `--cluster`, which starts both of its own) and a minimal
 * bridge receiver in a child process. Prints a table and writes bench/results/publish.json.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import type { RealtimeTransportOptions } from '@realtime-streams/transport';
import Redis from 'ioredis';
import { RedisServer } from '../test/support/redis-server';
import { comparePublishOnCluster, printPublishComparison } from './publish/cluster-comparison';
import { type OutboxKind, runScenario, type ScenarioResult } from './publish/scenario';
import { machine, printTable, writeResult } from './support/report';

function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, 'support', 'bridge-receiver.process.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (data: Buffer) => {
      resolve({ url: `http://127.0.0.1:${data.toString().trim()}/internal/realtime/events`, child });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      rate: { type: 'string', default: '5000' },
      window: { type: 'string', default: '2000' },
      transport: { type: 'string', default: 'redis-streams,http-bridge' },
      mode: { type: 'string', default: 'rate,saturation' },
      outbox: { type: 'boolean', default: false },
      'outbox-store': { type: 'string', default: 'sqlite' },
      // Redis Streams on one node vs a local 6-node cluster, 6 shards each (bench/publish/cluster-comparison.ts).
      cluster: { type: 'boolean', default: false },
    },
  });
  const outboxKinds: OutboxKind[] = values.outbox
    ? ['off', values['outbox-store'] === 'memory' ? 'memory' : 'sqlite']
    : ['off'];
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const window = Number(values.window);
  Logger.overrideLogger(['error', 'warn']);
  if (values.cluster) {
    const comparison = await comparePublishOnCluster({ seconds, rate, window });
    printPublishComparison(comparison);
    console.log(`\nWrote ${writeResult('publish-cluster', { date: new Date().toISOString(), ...comparison })}`);
    return;
  }

  const ownRedis = process.env.REDIS_URL ? undefined : await RedisServer.start();
  const redisUrl = process.env.REDIS_URL ?? ownRedis!.url;
  const receiver = await startReceiver();
  const common: RealtimeTransportOptions = { probeIntervalMs: 1000, bufferCapacity: 20_000 };
  const redisOptions: RealtimeTransportOptions = {
    ...common,
    redis: { url: redisUrl, streamKeyPrefix: 'bench', maxLen: 100_000 },
  };
  const httpOptions: RealtimeTransportOptions = { ...common, httpBridge: { urls: [receiver.url] } };

  const results: ScenarioResult[] = [];
  try {
    const transports = values.transport.split(',');
    const modes = values.mode.split(',');
    for (const [transport, options] of [
      ['redis-streams', redisOptions],
      ['http-bridge', httpOptions],
    ] as const) {
      if (!transports.includes(transport)) continue;
      for (const outbox of outboxKinds) {
        if (modes.includes('rate')) {
          results.push(await runScenario(transport, options, { kind: 'rate', rate }, seconds, outbox));
        }
        if (modes.includes('saturation')) {
          results.push(await runScenario(transport, options, { kind: 'saturation', window }, seconds, outbox));
        }
      }
    }
  } finally {
    receiver.child.kill('SIGTERM');
    if (ownRedis) await ownRedis.dispose();
    else {
      const redis = new Redis(redisUrl);
      await redis.del('bench:{0}');
      redis.disconnect();
    }
  }

  console.log(
    `\nPublish benchmark: ${seconds} s per scenario after 1 s warm-up; ${machine().cpus} CPUs (${machine().cpuModel})`,
  );
  console.log(
    'Latency: EventBus.publish -> transport acknowledgement, in ms. Corrected: from the scheduled send time.\n',
  );
  printTable(
    results.map((r) => ({
      transport: r.transport,
      outbox: r.outbox,
      mode: r.mode,
      'events/s': r.eventsPerSecond,
      acked: r.acknowledged,
      'avg batch': r.avgBatch,
      p50: r.latencyMs.p50,
      p95: r.latencyMs.p95,
      p99: r.latencyMs.p99,
      'p99.9': r.latencyMs.p999,
      max: r.latencyMs.max,
      'p99 corrected': r.correctedLatencyMs?.p99 ?? NaN,
    })),
  );
  const file = writeResult('publish', {
    date: new Date().toISOString(),
    machine: machine(),
    seconds,
    rate,
    window,
    results,
  });
  console.log(`\nWrote ${file}`);
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
