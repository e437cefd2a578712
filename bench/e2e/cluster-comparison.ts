import { loadavg } from 'node:os';
import { StreamKeys, targetKeyOf, toGroup } from '@realtime-streams/contracts';
import type { ServiceProcess } from '../../test/support/service-process';
import { forEachRedisSetup, type RedisSetup, type SetupName } from '../support/redis-setups';
import { printTable } from '../support/report';
import type { ScenarioResult } from './scenario';
import { runMeasured, startApi, startGateway, type Timing, warningsOf } from './service-roles';

const SHARDS = 6;

export interface E2eSetupRun {
  setup: SetupName;
  /** The box's load average when the set-up started: another engineer's work shows here. */
  loadAverageBefore: number[];
  results: ScenarioResult[];
  /** WARN and ERROR lines the api and gateway logged (distinct messages, counted). */
  warnings: { api: Array<{ line: string; count: number }>; gateway: Array<{ line: string; count: number }> };
}

export interface E2eComparison {
  shards: number;
  /** Rooms of each shard, per load size: every shard should carry traffic on both set-ups. */
  roomsPerShard: Record<string, number[]>;
  setups: E2eSetupRun[];
  rows: Array<Record<string, string | number>>;
}

/**
 * The end-to-end load sweep (Redis Streams only) on a single redis-server, then on a local 6-node cluster, 6 shards
 * each: an api and a gateway process per set-up, the same scenarios, the same clients.
 */
export async function compareE2eOnCluster(options: {
  sizes: number[];
  timing: Timing;
  nodeArgs: string[];
}): Promise<E2eComparison> {
  const setups = await forEachRedisSetup(SHARDS, (redis) => runSetup(redis, options));
  const [single, cluster] = setups;
  return {
    shards: SHARDS,
    roomsPerShard: Object.fromEntries(options.sizes.map((clients) => [`${clients} clients`, roomsPerShard(clients)])),
    setups,
    rows: comparisonRows(single.results, cluster.results),
  };
}

async function runSetup(
  redis: RedisSetup,
  options: { sizes: number[]; timing: Timing; nodeArgs: string[] },
): Promise<E2eSetupRun> {
  const loadAverageBefore = loadavg().map((v) => Math.round(v * 100) / 100);
  const results: ScenarioResult[] = [];
  const gateway = await startGateway(redis.env, 'redis-streams', options.nodeArgs);
  let api: ServiceProcess | undefined;
  try {
    api = await startApi(redis.env, 'redis-streams', gateway, options.nodeArgs, true);
    for (const clients of options.sizes) {
      const scenario = { name: `${clients} clients`, clients, typing: false };
      results.push(await runMeasured(redis.name, scenario, 'redis-streams', api, gateway, options.timing));
    }
  } finally {
    await api?.dispose();
    await gateway.dispose();
  }
  return {
    setup: redis.name,
    loadAverageBefore,
    results,
    warnings: { api: api ? warningsOf(api) : [], gateway: warningsOf(gateway) },
  };
}

/** How runMeasured's rooms (`r0`, `r1`..., one per 10 clients) fall on the shards; the same on both set-ups. */
function roomsPerShard(clients: number): number[] {
  const keys = new StreamKeys('realtime', SHARDS);
  const counts = new Array<number>(SHARDS).fill(0);
  // The reference service sends a room's events to the group `room:<id>`.
  for (let r = 0; r < Math.max(1, clients / 10); r++) counts[keys.shardOfTarget(targetKeyOf(toGroup(`room:r${r}`)))]++;
  return counts;
}

function comparisonRows(single: ScenarioResult[], cluster: ScenarioResult[]): Array<Record<string, string | number>> {
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return single.flatMap((s) => {
    const c = cluster.find((r) => r.name === s.name);
    if (!c) return [];
    const row: Record<string, string | number> = { scenario: s.name, 'msg/s': s.rate };
    for (const p of ['p50', 'p95', 'p99'] as const) {
      row[`${p} single`] = s.latencyMs[p];
      row[`${p} cluster`] = c.latencyMs[p];
      row[`${p} c/s`] = ratio(c.latencyMs[p], s.latencyMs[p]);
    }
    row['lost s/c'] = `${s.lost}/${c.lost}`;
    row['dup s/c'] = `${s.duplicates}/${c.duplicates}`;
    return [row];
  });
}

export function printE2eComparison(comparison: E2eComparison): void {
  console.log(
    `\nEnd-to-end latency, Redis Streams: single node vs 6-node cluster (3 masters + 3 replicas), ` +
      `${comparison.shards} shards each (ms, API accept to client receipt, coordinated-omission corrected; ` +
      'c/s = cluster / single, below 1: the cluster is faster)\n',
  );
  printTable(comparison.rows);
  console.log(
    `\nRooms per shard: ${Object.entries(comparison.roomsPerShard)
      .map(([scenario, counts]) => `${scenario} ${counts.join('/')}`)
      .join('; ')}`,
  );
  for (const run of comparison.setups) {
    for (const [role, warnings] of Object.entries(run.warnings)) {
      if (warnings.length === 0) continue;
      console.log(`\n${run.setup}, ${role} logged:`);
      for (const w of warnings.slice(0, 10)) console.log(`  ${w.count > 1 ? `${w.count}x ` : ''}${w.line}`);
      if (warnings.length > 10) console.log(`  ... and ${warnings.length - 10} more distinct lines`);
    }
  }
}
