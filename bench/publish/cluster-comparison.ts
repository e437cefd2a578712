import { sequenceKeyOf, StreamKeys } from '@realtime-streams/contracts';
import { cpuSpent, redisCpuSeconds } from '../support/redis-cpu';
import { forEachRedisSetup, type RedisSetup, type SetupName } from '../support/redis-setups';
import { machine, printTable } from '../support/report';
import { type PublishMode, runScenario, type ScenarioResult } from './scenario';

const SHARDS = 6;
/** Enough rooms that every shard, and so every master, takes a fair share of the events. */
const ROOMS = Array.from({ length: 1000 }, (_, i) => `room:${i}`);
const PREFIX = 'bench';

export interface PublishSetupResult extends ScenarioResult {
  setup: SetupName;
  /** Entries appended to each shard over the whole scenario (warm-up included), read from the shards' counters. */
  entriesPerShard: number[];
  /** Share of those entries on each master, %, in port order (one figure on a single node). */
  entriesPerMasterPercent: number[];
  /** Redis CPU per appended entry over the whole scenario, µs: on the masters (the single node) and the replicas. */
  redisCpuUsPerEvent: { masters: number; replicas: number };
}

export interface PublishComparison {
  machine: ReturnType<typeof machine>;
  seconds: number;
  rate: number;
  window: number;
  shards: number;
  rooms: number;
  results: PublishSetupResult[];
  ratios: Array<Record<string, string | number>>;
}

/**
 * Publish throughput and latency of Redis Streams on one redis-server vs a local 6-node cluster, 6 shards each, in
 * the same run: open loop at `rate`, then at saturation (`window` events in flight).
 */
export async function comparePublishOnCluster(options: {
  seconds: number;
  rate: number;
  window: number;
}): Promise<PublishComparison> {
  const modes: PublishMode[] = [
    { kind: 'rate', rate: options.rate },
    { kind: 'saturation', window: options.window },
  ];
  const perSetup = await forEachRedisSetup(SHARDS, async (redis) => {
    const results: PublishSetupResult[] = [];
    for (const mode of modes) {
      process.stdout.write(`publish, ${redis.name}: ${mode.kind} ... `);
      const result = await measure(redis, mode, options.seconds);
      console.log(`${result.eventsPerSecond} events/s, p99 ${round(result.latencyMs.p99)} ms`);
      results.push(result);
    }
    return results;
  });
  const results = perSetup.flat();
  return {
    machine: machine(),
    ...options,
    shards: SHARDS,
    rooms: ROOMS.length,
    results,
    ratios: ratiosOf(results),
  };
}

async function measure(redis: RedisSetup, mode: PublishMode, seconds: number): Promise<PublishSetupResult> {
  const keys = new StreamKeys(PREFIX, SHARDS, redis.layout).all;
  const masters = await redis.masterPorts();
  const replicas = await redis.replicaPorts();
  const reader = redis.client();
  try {
    const appendedBefore = await appended(reader, keys);
    const cpuBefore = await redisCpuSeconds([...masters, ...replicas]);
    const result = await runScenario(
      'redis-streams',
      {
        probeIntervalMs: 1000,
        bufferCapacity: 20_000,
        redis: { ...redis.moduleOptions, streamKeyPrefix: PREFIX, maxLen: 100_000 },
      },
      mode,
      seconds,
      'off',
      ROOMS,
    );
    const cpuAfter = await redisCpuSeconds([...masters, ...replicas]);
    const entriesPerShard = (await appended(reader, keys)).map((n, shard) => n - appendedBefore[shard]);
    const entries = Math.max(
      1,
      entriesPerShard.reduce((sum, n) => sum + n, 0),
    );
    const perMaster = new Map(masters.map((port) => [port, 0]));
    for (const [shard, key] of keys.entries()) {
      const port = await redis.masterOf(key);
      perMaster.set(port, (perMaster.get(port) ?? 0) + entriesPerShard[shard]);
    }
    const usPerEntry = (ports: number[]) =>
      ports.length === 0 ? NaN : round((cpuSpent(cpuBefore, cpuAfter, ports) * 1e6) / entries);
    return {
      ...result,
      setup: redis.name,
      entriesPerShard,
      entriesPerMasterPercent: [...perMaster.values()].map((n) => Math.round((n / entries) * 100)),
      redisCpuUsPerEvent: { masters: usPerEntry(masters), replicas: usPerEntry(replicas) },
    };
  } finally {
    reader.disconnect();
  }
}

/** Entries ever appended to each shard: its counter (`<stream>:seq`), which trimming leaves alone. */
async function appended(reader: ReturnType<RedisSetup['client']>, keys: readonly string[]): Promise<number[]> {
  return Promise.all(keys.map(async (key) => Number((await reader.get(sequenceKeyOf(key))) ?? 0)));
}

function ratiosOf(results: PublishSetupResult[]): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const cluster of results.filter((r) => r.setup === 'cluster')) {
    const single = results.find((r) => r.setup === 'single node' && r.mode === cluster.mode);
    if (!single) continue;
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    rows.push({
      mode: cluster.mode,
      'events/s': ratio(cluster.eventsPerSecond, single.eventsPerSecond),
      p50: ratio(cluster.latencyMs.p50, single.latencyMs.p50),
      p95: ratio(cluster.latencyMs.p95, single.latencyMs.p95),
      p99: ratio(cluster.latencyMs.p99, single.latencyMs.p99),
      'publisher µs/ev': ratio(cluster.publisherCpuUsPerEvent, single.publisherCpuUsPerEvent),
      'redis µs/ev': ratio(cluster.redisCpuUsPerEvent.masters, single.redisCpuUsPerEvent.masters),
    });
  }
  return rows;
}

export function printPublishComparison(comparison: PublishComparison): void {
  console.log(
    `\nPublish, Redis Streams: single node vs 6-node cluster (3 masters + 3 replicas), ${comparison.shards} shards, ` +
      `${comparison.rooms} rooms; ${comparison.seconds} s per scenario after 1 s warm-up`,
  );
  console.log(
    'Latency: EventBus.publish -> acknowledgement, ms. CPU per event: this process while measuring; Redis over the ' +
      'whole scenario (all nodes, idle cluster chatter included).\n',
  );
  printTable(
    comparison.results.map((r) => ({
      setup: r.setup,
      mode: r.mode,
      'events/s': r.eventsPerSecond,
      'avg batch': r.avgBatch,
      p50: r.latencyMs.p50,
      p95: r.latencyMs.p95,
      p99: r.latencyMs.p99,
      'p99.9': r.latencyMs.p999,
      max: r.latencyMs.max,
      'p99 corrected': r.correctedLatencyMs?.p99 ?? NaN,
      'publisher µs/ev': r.publisherCpuUsPerEvent,
      'redis µs/ev': r.redisCpuUsPerEvent.masters,
      'replicas µs/ev': r.redisCpuUsPerEvent.replicas,
      'shards used': `${r.entriesPerShard.filter((n) => n > 0).length}/${r.entriesPerShard.length}`,
      'per master %': r.entriesPerMasterPercent.join('/'),
    })),
  );
  if (comparison.ratios.length > 0) {
    console.log('\nCluster / single node (events/s above 1: the cluster acknowledged more; latency below 1: faster)\n');
    printTable(comparison.ratios);
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
