import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
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
import { register } from 'prom-client';
import { SqliteOutboxStore } from '../../test/fixtures/sqlite-outbox.store';
import { LatencyRecorder, type LatencySummary } from '../support/latency-recorder';

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

export type OutboxKind = 'off' | 'sqlite' | 'memory';

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

export interface ScenarioResult {
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
  /** CPU time of this process (EventBus, pipeline, transport client) per event acknowledged while measuring, µs. */
  publisherCpuUsPerEvent: number;
}

const TEXT = 'x'.repeat(120);
const ROOMS = Array.from({ length: 100 }, (_, i) => `room:${i}`);

export type PublishMode = { kind: 'rate'; rate: number } | { kind: 'saturation'; window: number };

/**
 * One scenario in an application context of its own (a fresh publisher): a 1 s warm-up, then `seconds` measured,
 * events spread round-robin over `rooms`.
 */
export async function runScenario(
  transport: 'redis-streams' | 'http-bridge',
  options: RealtimeTransportOptions,
  mode: PublishMode,
  seconds: number,
  outbox: OutboxKind = 'off',
  rooms: readonly string[] = ROOMS,
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
    const event = new BenchEvent(measured ? seq : -1, rooms[seq % rooms.length], intendedAt, TEXT);
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
  let cpuAtStart = process.cpuUsage();
  const beginMeasuring = (now: number) => {
    measuring = true;
    measureStart = now;
    ackAtStart = acknowledged;
    batchesAtStart = batches;
    cpuAtStart = process.cpuUsage();
  };

  let cpu = { user: 0, system: 0 };
  let ackAtEnd = 0;
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
          if (measured && !measuring) beginMeasuring(now);
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
    cpu = process.cpuUsage(cpuAtStart);
    ackAtEnd = acknowledged;
  } else {
    const start = epochMs();
    await new Promise<void>((resolve) => {
      const pump = () => {
        const now = epochMs();
        if (!measuring && now - start >= warmupMs) beginMeasuring(now);
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
    cpu = process.cpuUsage(cpuAtStart);
    ackAtEnd = acknowledged;
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
    publisherCpuUsPerEvent: Math.round(((cpu.user + cpu.system) / Math.max(1, ackAtEnd - ackAtStart)) * 10) / 10,
  };
}
