/**
 * Redis Cluster benchmark: Redis Streams on a single redis-server vs a local 6-node Redis Cluster (3 masters + 3
 * replicas), 6 shards on both, in the same run. First the stream hop alone (XADD to a blocked XREADGROUP, nothing
 * else running: bench/support/wakeup-latency.ts), then the end-to-end load sweep (api and gateway processes, stock
 * SignalR clients: bench/e2e/cluster-comparison.ts), then publish throughput and latency in this process
 * (bench/publish/cluster-comparison.ts).
 *
 *   npm run bench -- --cluster                 200 and 500 clients, 10 s each; publish 10 s per scenario
 *   npm run bench -- --cluster --quick         200 clients, 5 s
 *   options: --sizes 200,500 --seconds 10 --warmup 2 --workers 2 (--seconds is the publish scenarios' length too)
 *
 * Always starts its own redis-server and cluster (REDIS_URL is not used). Writes bench/results/cluster.json.
 */
import { compareE2eOnCluster, printE2eComparison } from './e2e/cluster-comparison';
import type { Timing } from './e2e/service-roles';
import { comparePublishOnCluster, printPublishComparison } from './publish/cluster-comparison';
import { machine, printTable, writeResult } from './support/report';
import { compareWakeupLatency } from './support/wakeup-latency';

export interface ClusterBenchOptions {
  sizes: number[];
  timing: Timing;
  /** Extra node flags for the api and gateway processes (BENCH_CPU_PROF). */
  nodeArgs: string[];
  publish: { rate: number; window: number };
}

export async function runClusterBench(options: ClusterBenchOptions): Promise<void> {
  const wakeup = await compareWakeupLatency();
  const e2e = await compareE2eOnCluster(options);
  const publish = await comparePublishOnCluster({ seconds: options.timing.seconds, ...options.publish });
  const m = machine();
  console.log(
    `\nOne machine: ${m.cpus} CPUs (${m.cpuModel}), shared with other work (load average ${m.loadAverage.join(', ')}). ` +
      'The 3 masters, their 3 replicas, the api, the gateway and the clients all compete for these cores, so a ' +
      'cluster on one box cannot show the throughput of a real multi-host cluster (a master per host). What these ' +
      'figures show: what the cluster path costs per event (CPU µs/ev in the publish table), and what it does to ' +
      'latency.',
  );
  console.log(
    '\nStream hop alone, nothing else running: XADD -> blocked XREADGROUP in hand, ms (1,000 entries, one every 2 ms)\n',
  );
  printTable(wakeup.map((w) => ({ setup: w.setup, samples: w.samples, p50: w.p50Ms, p99: w.p99Ms })));
  printE2eComparison(e2e);
  printPublishComparison(publish);
  const file = writeResult('cluster', {
    date: new Date().toISOString(),
    machine: m,
    options,
    wakeup,
    e2e,
    publish,
  });
  console.log(`\nWrote ${file}`);
}
