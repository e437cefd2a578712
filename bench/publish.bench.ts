/**
 * Publish benchmark: events/s and latency from EventBus.publish to the transport's acknowledgement, for
 * redis-streams and http-bridge, at a fixed open-loop rate and at saturation.
 *
 *   npm run bench:publish [-- --seconds 5 --rate 5000 --window 2000 --transport redis-streams --mode rate --outbox]
 *
 * `--outbox` runs every scenario twice in the same run: as before, and with durable accept (each event published
 * with `publishDurably`, its record inserted into an SQLite outbox in a temp file, in its own transaction, as an
 * application would; `--outbox-store memory` uses an in-memory store instead, to isolate the library's share).
 *
 * Starts its own redis-server (or uses REDIS_URL) and a minimal bridge receiver in a child process.
 * Prints a table and writes bench/results/publish.json.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { epochMs } from '@realtime-streams/contracts';
import {
  type OutboxCursor,
  type OutboxRecord,
  type OutboxStore,
  RealtimeEvent,
  RealtimePublisher,
  RealtimeTransportModule,
  type RealtimeTransportOptions,
  type StoredOutboxRecord,
  toGroup,
} from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import Redis from 'ioredis';
import { register } from 'prom-client';
import { SqliteOutboxStore } from '../test/fixtures/sqlite-outbox.store';
import { RedisServer } from '../test/support/redis-server';
import { LatencyRecorder, type LatencySummary } from './support/latency-recorder';
import { machine, printTable, writeResult } from './support/report';

@RealtimeEvent({ method: 'ReceiveMessage', type: 'bench.message', to: (e: BenchEvent) => toGroup(e.room) })
class BenchEvent {
  constructor(
    readonly seq: number,
    readonly room: string,
    /** When the open-loop schedule wanted this event published (epoch ms), for coordinated-omission correction. */
    readonly intendedAt: number,
    readonly text: string,
  ) {}
}

type OutboxKind = 'off' | 'sqlite' | 'memory';

/** The outbox without a database: what the library costs on its own. */
class MemoryOutboxStore implements OutboxStore {
  private readonly rows = new Map<string, StoredOutboxRecord>();
  private seq = 0;
  removeCalls = 0;
  insert(record: OutboxRecord): void {
    this.rows.set(record.id, { ...record, cursor: ++this.seq });
  }
  pending(limit: number, after?: OutboxCursor): StoredOutboxRecord[] {
    const out: StoredOutboxRecord[] = [];
    for (const row of this.rows.values()) {
      if (after !== undefined && (row.cursor as number) <= (after as number)) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }
  remove(ids: readonly string[]): void {
    this.removeCalls++;
    for (const id of ids) this.rows.delete(id);
  }
}

interface ScenarioResult {
  transport: string;
  outbox: OutboxKind;
  outboxRemoveCalls?: number;
  mode: string;
  targetRate?: number;
  seconds: number;
  published: number;
  acknowledged: number;
  eventsPerSecond: number;
  latencyMs: LatencySummary;
  correctedLatencyMs?: LatencySummary;
  avgBatch: number;
}

const TEXT = 'x'.repeat(120);
const ROOMS = Array.from({ length: 100 }, (_, i) => `room:${i}`);

async function runScenario(
  transport: 'redis-streams' | 'http-bridge',
  options: RealtimeTransportOptions,
  mode: { kind: 'rate'; rate: number } | { kind: 'saturation'; window: number },
  seconds: number,
  outbox: OutboxKind = 'off',
): Promise<ScenarioResult> {
  register.clear();
  const dir = outbox === 'sqlite' ? mkdtempSync(join(tmpdir(), 'bench-outbox-')) : undefined;
  const store = dir
    ? new SqliteOutboxStore(join(dir, 'outbox.db'))
    : outbox === 'memory'
      ? new MemoryOutboxStore()
      : undefined;
  const moduleOptions: RealtimeTransportOptions = store ? { ...options, outbox: { store } } : options;
  @Module({})
  class BenchModule {
    static with(): DynamicModule {
      return { module: BenchModule, imports: [CqrsModule.forRoot(), RealtimeTransportModule.forRoot(moduleOptions)] };
    }
  }
  const app = await NestFactory.createApplicationContext(BenchModule.with(), { logger: ['error', 'warn'] });
  const bus = app.get(EventBus);
  const chain = app.get(FallbackChain);
  const publisher = app.get(RealtimePublisher);
  let measuring = false;
  let acknowledged = 0;
  let batches = 0;
  const latency = new LatencyRecorder();
  const corrected = new LatencyRecorder();
  chain.onPublished((_name, batch) => {
    const now = epochMs();
    batches++;
    for (const outbound of batch) {
      acknowledged++;
      const event = outbound.envelope.args[0] as BenchEvent;
      if (!measuring || event.seq < 0) continue;
      latency.record(now - outbound.envelope.ts);
      corrected.record(now - event.intendedAt);
    }
  });

  let seq = 0;
  const publish = (intendedAt: number, measured: boolean) => {
    const event = new BenchEvent(measured ? seq : -1, ROOMS[seq % ROOMS.length], intendedAt, TEXT);
    // With the outbox, what an application's request handler does: its own transaction, then publish from memory.
    if (store) publisher.publishDurably(event, (record) => store.insert(record));
    else bus.publish(event);
    seq++;
  };

  const warmupMs = 1000;
  let published = 0;
  let measuredPublished = 0;
  let measureStart = 0;
  let measureEnd = 0;
  let ackAtStart = 0;
  let batchesAtStart = 0;

  if (mode.kind === 'rate') {
    const start = epochMs();
    const total = Math.round((mode.rate * (warmupMs + seconds * 1000)) / 1000);
    const interval = 1000 / mode.rate;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = epochMs();
        while (published < total && start + published * interval <= now) {
          const intendedAt = start + published * interval;
          const measured = intendedAt - start >= warmupMs;
          if (measured && !measuring) {
            measuring = true;
            measureStart = now;
            ackAtStart = acknowledged;
            batchesAtStart = batches;
          }
          if (measured) measuredPublished++;
          publish(intendedAt, measured);
          published++;
        }
        if (published >= total) return resolve();
        setTimeout(tick, 0);
      };
      tick();
    });
    await chain.whenIdle();
    measureEnd = epochMs();
  } else {
    const start = epochMs();
    await new Promise<void>((resolve) => {
      const pump = () => {
        const now = epochMs();
        if (!measuring && now - start >= warmupMs) {
          measuring = true;
          measureStart = now;
          ackAtStart = acknowledged;
          batchesAtStart = batches;
        }
        if (measuring && now - measureStart >= seconds * 1000) return resolve();
        // Keep a bounded number in flight: saturation, without overflowing the pending buffer.
        while (published - acknowledged < mode.window) {
          publish(epochMs(), measuring);
          if (measuring) measuredPublished++;
          published++;
        }
        setImmediate(pump);
      };
      pump();
    });
    measureEnd = epochMs();
    measuring = false;
    await chain.whenIdle();
  }

  const elapsed = (measureEnd - measureStart) / 1000;
  const ackMeasured = latency.size;
  await app.close();
  const outboxRemoveCalls = store?.removeCalls;
  if (store instanceof SqliteOutboxStore) store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return {
    transport,
    outbox,
    outboxRemoveCalls,
    mode: mode.kind === 'rate' ? `open loop ${mode.rate}/s` : `saturation (window ${mode.window})`,
    targetRate: mode.kind === 'rate' ? mode.rate : undefined,
    seconds: Math.round(elapsed * 100) / 100,
    published: measuredPublished,
    acknowledged: ackMeasured,
    eventsPerSecond: Math.round(ackMeasured / elapsed),
    latencyMs: latency.summary(),
    correctedLatencyMs: mode.kind === 'rate' ? corrected.summary() : undefined,
    avgBatch: Math.round(((acknowledged - ackAtStart) / Math.max(1, batches - batchesAtStart)) * 10) / 10,
  };
}

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
    },
  });
  const outboxKinds: OutboxKind[] = values.outbox
    ? ['off', values['outbox-store'] === 'memory' ? 'memory' : 'sqlite']
    : ['off'];
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const window = Number(values.window);
  Logger.overrideLogger(['error', 'warn']);

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
