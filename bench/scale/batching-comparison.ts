import { RedisServer } from '../../test/support/redis-server';
import { clientsOf, measureOurs } from './measure-ours';
import { machine, printTable, writeResult } from '../support/report';
import { using } from './running-resources';
import type { SideResult } from './measure-side';

interface BatchingRun {
  rate: number;
  batchWrites: boolean;
  round: number;
  result: SideResult;
}

/** At least 30 % less CPU per delivery at the higher rate, p99 no worse at the lower (issue 15). */
const CPU_GOAL_PERCENT = 30;

/**
 * Several messages per write, off and on, on one gateway at `connections` connections in rooms of `roomSize`, for
 * each rate: what one stream read brings for a connection goes out as one frame (`REALTIME_BATCH_WRITES`), or each
 * message as a frame of its own. Off and on alternate within each round, a fresh gateway each time, so drift on a
 * shared machine hits both alike.
 */
export async function runBatchingComparison(options: {
  connections: number;
  rates: number[];
  rounds: number;
  roomSize: number;
  seconds: number;
  warmup: number;
  workers: number;
}): Promise<void> {
  const { clients, rooms } = clientsOf(options.connections, options.roomSize);
  const runs: BatchingRun[] = [];
  await using(await RedisServer.start(), async (redis) => {
    for (let round = 1; round <= options.rounds; round++) {
      for (const rate of options.rates) {
        for (const batchWrites of [false, true]) {
          process.stdout.write(`round ${round}, ${rate} msg/s, batched writes ${batchWrites ? 'on' : 'off'}: `);
          const result = await measureOurs(
            redis.url,
            clients,
            rooms,
            { ...options, rate },
            {
              REALTIME_BATCH_WRITES: String(batchWrites),
            },
          );
          runs.push({ rate, batchWrites, round, result });
        }
      }
    }
  });
  report(runs, options);
}

function report(runs: BatchingRun[], options: Record<string, unknown>): void {
  const m = machine();
  console.log(
    `\nSeveral messages per write, off and on; ${m.cpus} CPUs, ${m.cpuModel}, load ${m.loadAverage.join(' ')}\n`,
  );
  printTable(
    runs.map(({ rate, batchWrites, round, result }) => ({
      round,
      'msg/s': rate,
      'batched writes': batchWrites ? 'on' : 'off',
      connections: result.connected,
      deliveries: result.windowDeliveries,
      lost: result.lost,
      dup: result.duplicates,
      'p50 ms': result.latencyMs.p50,
      'p99 ms': result.latencyMs.p99,
      'CPU µs/delivery': result.cpuUsPerDelivery,
      'wire B/delivery': result.wireBytesPerDelivery,
    })),
  );
  const mean = (rate: number, batchWrites: boolean, pick: (result: SideResult) => number) => {
    const mine = runs.filter((run) => run.rate === rate && run.batchWrites === batchWrites);
    return mine.reduce((sum, run) => sum + pick(run.result), 0) / Math.max(1, mine.length);
  };
  const rows = [...new Set(runs.map((run) => run.rate))].map((rate) => {
    const cpuOff = mean(rate, false, (r) => r.cpuUsPerDelivery);
    const cpuOn = mean(rate, true, (r) => r.cpuUsPerDelivery);
    return {
      'msg/s': rate,
      'CPU µs/delivery off': Math.round(cpuOff * 100) / 100,
      'CPU µs/delivery on': Math.round(cpuOn * 100) / 100,
      'CPU saved %': Math.round((1 - cpuOn / cpuOff) * 1000) / 10,
      'p99 ms off': Math.round(mean(rate, false, (r) => r.latencyMs.p99) * 10) / 10,
      'p99 ms on': Math.round(mean(rate, true, (r) => r.latencyMs.p99) * 10) / 10,
    };
  });
  console.log('\nMeans over the rounds\n');
  printTable(rows);
  const [lower, higher] = [rows[0], rows.at(-1)!];
  console.log('\nGoals');
  console.log(
    `  at least ${CPU_GOAL_PERCENT} % less CPU per delivery at ${higher['msg/s']} msg/s: ${higher['CPU saved %']} % ` +
      `(${higher['CPU saved %'] >= CPU_GOAL_PERCENT ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  p99 no worse at ${lower['msg/s']} msg/s: ${lower['p99 ms off']} ms off, ${lower['p99 ms on']} ms on ` +
      `(${lower['p99 ms on'] <= lower['p99 ms off'] ? 'met' : 'NOT met: within noise?'})`,
  );
  const file = writeResult('scale-batching', { date: new Date().toISOString(), machine: m, options, runs, rows });
  console.log(`\nWrote ${file}`);
}
