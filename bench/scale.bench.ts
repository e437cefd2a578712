/**
 * One gateway process under many cheap clients, held against a floor measured in the same run. Per size N
 * (connections, in rooms of --room-size members):
 *   - ours: redis-server, a gateway process and an api process (Redis Streams). N raw `ws` clients over
 *     --workers worker processes (bench/scale/ws-client-worker.ts) speak the SignalR JSON hub protocol by hand:
 *     connect without negotiation, handshake, `JoinRoom`, a ping every 10 s. The bench posts chat messages to the
 *     api at --rate messages/s, round-robin over the rooms, open loop, each by a connected member of its room;
 *   - floor: bench/scale/floor-server.ts, a plain `ws` server keeping a set of sockets per room, to which the
 *     orchestrator hands the same messages over IPC at the same rate; per message it builds the ReceiveMessage
 *     record once, frames it once and writes that one buffer to every socket of the room. The same client code
 *     connects to it (no handshake, no join).
 * On each side's server process:
 *   - latency: the message's `acceptedAt` (api, or orchestrator for the floor) to a client reading the frame,
 *     coordinated-omission corrected, measured messages only (after --warmup);
 *   - CPU µs per delivery: the process's CPU time (/proc) from the first measured message to 2 s after the last,
 *     minus its idle CPU (2 s with the clients connected, before posting), divided by the deliveries the clients
 *     counted in that window;
 *   - memory per connection: VmRSS after every client connected (and joined) minus before, per connected client.
 * The ratio ours/floor of CPU per delivery is what the gateway's features (auth, groups, protocol handling,
 * delivery bookkeeping, the stream read) cost on top of fanning the bytes out.
 *
 *   node -r @swc-node/register bench/scale.bench.ts
 *   options: --sizes 1000,5000,15000 --rate 40 --seconds 10 --warmup 2 --workers 3 --room-size 500
 *
 * Goals: ratio ≤ 1.15 at 5,000 connections; 15,000 connections with 0 failed connects (the machine allows a
 * process 20,000 open files, and the gateway holds one per connection). Prints a table and writes
 * bench/results/scale.json.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { RedisServer } from '../test/support/redis-server';
import { runBatchingComparison } from './scale/batching-comparison';
import { floorMessageJson } from './scale/floor-message';
import { clientsOf, measureOurs } from './scale/measure-ours';
import { FloorProcess } from './scale/floor-process';
import { type LoadOptions, measureSide, type SideResult } from './scale/measure-side';
import { disposeRunning, using } from './scale/running-resources';
import type { ScaleClient } from './scale/scale-protocol';
import { machine, printTable, writeResult } from './support/report';

interface SizeResult {
  size: number;
  ours: SideResult;
  floor: SideResult;
  /** Ours / floor, CPU µs per delivery. */
  cpuRatio: number;
}

const RATIO_GOAL = { connections: 5000, ratio: 1.15 };
const CONNECTIONS_GOAL = 15_000;

export async function runScaleBench(options: {
  sizes: number[];
  rate: number;
  seconds: number;
  warmup: number;
  workers: number;
  roomSize: number;
}): Promise<void> {
  const results: SizeResult[] = [];
  await using(await RedisServer.start(), async (redis) => {
    for (const size of options.sizes) {
      const { clients, rooms } = clientsOf(size, options.roomSize);
      const ours = await measureOurs(redis.url, clients, rooms, options);
      const floor = await measureFloor(clients, rooms, options);
      results.push({ size, ours, floor, cpuRatio: round(ours.cpuUsPerDelivery / floor.cpuUsPerDelivery, 2) });
    }
  });
  report(results, options);
}

async function measureFloor(clients: ScaleClient[], rooms: string[], options: LoadOptions): Promise<SideResult> {
  return using(await FloorProcess.start(), (floor) =>
    measureSide(
      {
        side: 'floor',
        pid: floor.pid,
        mode: 'floor',
        url: floor.url,
        send: (message) => {
          floor.deliver(message.room, floorMessageJson(message));
          return true;
        },
      },
      clients,
      rooms,
      options,
    ),
  );
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function report(results: SizeResult[], options: Record<string, unknown>): void {
  const m = machine();
  console.log(
    `\nOne gateway vs the floor, Redis Streams path; ${m.cpus} CPUs, ${m.cpuModel}, load ${m.loadAverage.join(' ')}\n`,
  );
  printTable(
    results.flatMap(({ ours, floor }) =>
      [ours, floor].map((side) => ({
        side: side.side,
        connections: side.connections,
        failed: side.failed,
        rooms: side.rooms,
        'msg/s': side.rate,
        deliveries: side.windowDeliveries,
        lost: side.lost,
        dup: side.duplicates,
        'p50 ms': side.latencyMs.p50,
        'p95 ms': side.latencyMs.p95,
        'p99 ms': side.latencyMs.p99,
        'CPU µs/delivery': side.cpuUsPerDelivery,
        'idle CPU %': side.idleCpuPercent,
        'KB/connection': side.kbPerConnection,
      })),
    ),
  );
  console.log('\nOurs against the floor, per size\n');
  printTable(
    results.map(({ size, ours, floor, cpuRatio }) => ({
      connections: size,
      'µs/delivery ours': ours.cpuUsPerDelivery,
      'µs/delivery floor': floor.cpuUsPerDelivery,
      'ratio ours/floor': cpuRatio,
      'KB/conn ours': ours.kbPerConnection,
      'KB/conn floor': floor.kbPerConnection,
      'p99 ms ours': ours.latencyMs.p99,
      'p99 ms floor': floor.latencyMs.p99,
    })),
  );
  const goals = goalsOf(results);
  console.log('\nGoals');
  for (const goal of goals) console.log(`  ${goal.goal}: ${goal.figure} (${goal.status})`);
  const file = writeResult('scale', { date: new Date().toISOString(), machine: m, options, results, goals });
  console.log(`\nWrote ${file}`);
}

function goalsOf(results: SizeResult[]): Array<{ goal: string; figure: string; status: string }> {
  const atRatioSize = results.find((r) => r.size === RATIO_GOAL.connections);
  const atConnectionsSize = results.find((r) => r.size === CONNECTIONS_GOAL);
  const status = (measured: boolean, met: boolean) => (!measured ? 'not measured' : met ? 'met' : 'NOT met');
  return [
    {
      goal: `CPU per delivery ours/floor ≤ ${RATIO_GOAL.ratio} at ${RATIO_GOAL.connections.toLocaleString('en-US')} connections`,
      figure: atRatioSize ? `ratio ${atRatioSize.cpuRatio}` : '-',
      status: status(atRatioSize !== undefined, (atRatioSize?.cpuRatio ?? Infinity) <= RATIO_GOAL.ratio),
    },
    {
      goal: `${CONNECTIONS_GOAL.toLocaleString('en-US')} connections to one gateway with 0 failed connects`,
      figure: atConnectionsSize
        ? `${atConnectionsSize.ours.connected.toLocaleString('en-US')} connected, ${atConnectionsSize.ours.failed} failed`
        : '-',
      status: status(atConnectionsSize !== undefined, atConnectionsSize?.ours.failed === 0),
    },
  ];
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,5000,15000' },
      rate: { type: 'string', default: '40' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      workers: { type: 'string', default: '3' },
      'room-size': { type: 'string', default: '500' },
      // Several messages per write, off and on (bench/scale/batching-comparison.ts), instead of the run above.
      batching: { type: 'boolean', default: false },
      rates: { type: 'string', default: '40,200' },
      rounds: { type: 'string', default: '2' },
    },
  });
  // Ctrl-C or a kill: stop what runs (redis-server, services, workers) before going.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void disposeRunning().finally(() => process.exit(130)));
  }
  const timing = { seconds: Number(values.seconds), warmup: Number(values.warmup), workers: Number(values.workers) };
  const run = values.batching
    ? runBatchingComparison({
        ...timing,
        connections: 5000,
        rates: values.rates.split(',').map(Number),
        rounds: Number(values.rounds),
        roomSize: Number(values['room-size']),
      })
    : runScaleBench({
        ...timing,
        sizes: values.sizes.split(',').map(Number),
        rate: Number(values.rate),
        roomSize: Number(values['room-size']),
      });
  void run.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
