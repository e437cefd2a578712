/**
 * Many gateways: the same workload on 1 gateway and on 12 (--gateways-list), to show what each added gateway costs.
 * Per set-up, a fresh redis-server, the reference service as an api (`REALTIME_ROLE=api`, Redis Streams) and N
 * gateway processes (`REALTIME_ROLE=gateway`). --clients raw `ws` SignalR JSON clients in --workers worker processes
 * (bench/gateways/gateway-client.worker.ts), rooms of --room-size consecutive users, each client on a gateway drawn
 * at random (seeded, so every path places the same clients alike), joining its room with `JoinRoom` as the
 * reference service's clients do. --rate messages/s posted to the api, round-robin over the rooms, open loop.
 *
 * Next to it, the plan's baseline as it would be deployed with several realtime servers (`legacy-backplane`): the
 * legacy API awaits one POST per event to one server (round-robin), which PUBLISHes it to Redis; every server
 * delivers what its subscription brings (bench/legacy/backplane-gateway.process.ts). By default on the largest
 * gateway count only (--backplane-at).
 *
 * Per set-up: total gateway CPU per delivery (every gateway process's CPU time from the first measured message to
 * 2 s after the last, summed, over the deliveries the clients read in that window), Redis CPU per message, latency
 * from accept p50/p99 (coordinated-omission corrected), POST->201, and every client's receipts checked by message
 * id against what the api accepted: lost, duplicated, out of order. Then the ratio of CPU per delivery on the most
 * gateways to the fewest (issue 25's goal: at most 2x).
 *
 *   npm run bench -- --gateways      (or node -r @swc-node/register bench/gateways.bench.ts)
 *   options: --gateways-list 1,12 --clients 1200 --rate 300 --seconds 20 --warmup 3 --room-size 4 --workers 2
 *            --shards N (REALTIME_STREAM_SHARDS; unset: the service's default) --gateway-env KEY=VALUE,...
 *            (added to every reference gateway) --paths redis-streams,legacy-backplane --backplane-at 12
 *            --backplane-channels one|group --seed 25
 *
 * Prints a table and writes bench/results/gateways.json.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { BackplaneChannels } from './legacy/backplane-relay';
import { GATEWAY_PATHS, type GatewayPath, startSetup } from './gateways/gateway-setups';
import { type GatewaysResult, measureGateways, type Workload } from './gateways/measure-gateways';
import { disposeRunning, using } from './scale/running-resources';
import { machine, printTable, writeResult } from './support/report';

/** Issue 25: CPU per delivery on 12 gateways at most twice that on one. */
const RATIO_GOAL = 2;

export interface GatewaysBenchOptions extends Workload {
  counts: number[];
  paths: GatewayPath[];
  backplaneAt: number[];
  channels: BackplaneChannels;
  shards?: number;
  gatewayEnv: Record<string, string>;
}

export async function runGatewaysBench(options: GatewaysBenchOptions): Promise<void> {
  const results: GatewaysResult[] = [];
  for (const count of options.counts) {
    for (const path of options.paths) {
      if (path === 'legacy-backplane' && !options.backplaneAt.includes(count)) continue;
      const setup = await startSetup(path, count, options);
      results.push(await using(setup, () => measureGateways(setup, options)));
    }
  }
  report(results, options);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function report(results: GatewaysResult[], options: GatewaysBenchOptions): void {
  const m = machine();
  console.log(`\nMany gateways; ${m.cpus} CPUs, ${m.cpuModel}, load ${m.loadAverage.join(' ')}\n`);
  printTable(
    results.map((r) => ({
      path: r.path,
      gateways: r.gateways,
      clients: `${r.connected}/${r.clients}`,
      'msg/s': r.rate,
      deliveries: r.windowDeliveries,
      'gw CPU µs/delivery': r.gatewayCpuUsPerDelivery,
      'above idle': r.gatewayCpuUsPerDeliveryAboveIdle,
      'gw CPU µs/msg': r.gatewayCpuUsPerMessage,
      'gw idle CPU %': r.gatewayIdleCpuPercent,
      'Redis µs/msg': r.redisCpuUsPerMessage,
      'reads/msg': r.readsPerMessage,
      'p50 ms': r.latencyMs.p50,
      'p99 ms': r.latencyMs.p99,
      'POST->201 p50': r.responseMs.p50,
      'POST->201 p95': r.responseMs.p95,
      'delivered/expected': `${r.check.delivered}/${r.check.expected}`,
      lost: r.check.lost,
      dup: r.check.duplicated,
      'out of order': r.check.outOfOrder,
      unexpected: r.check.unexpected,
    })),
  );
  const scaling = scalingOf(results);
  if (scaling.length > 0) {
    console.log('\nCPU per delivery, most gateways / fewest (issue 25: at most 2x)\n');
    printTable(scaling);
  }
  const paths = pathsOf(results);
  if (paths.length > 0) {
    console.log(
      '\nRedis Streams against the legacy backplane, same gateway count (below 1: Redis Streams costs less)\n',
    );
    printTable(paths);
  }
  for (const r of results.filter((r) => r.warnings.length > 0)) {
    console.log(`\n${r.path}, ${r.gateways} gateways, gateway warnings:`);
    for (const w of r.warnings.slice(0, 8)) console.log(`  ${w.count} x ${w.line.slice(0, 200)}`);
  }
  const file = writeResult('gateways', {
    date: new Date().toISOString(),
    machine: m,
    options,
    results,
    scaling,
    paths,
  });
  console.log(`\nWrote ${file}`);
}

function scalingOf(results: GatewaysResult[]): Array<Record<string, string | number>> {
  return GATEWAY_PATHS.flatMap((path) => {
    const runs = results.filter((r) => r.path === path).sort((a, b) => a.gateways - b.gateways);
    if (runs.length < 2) return [];
    const [fewest, most] = [runs[0], runs[runs.length - 1]];
    const ratio = round(most.gatewayCpuUsPerDelivery / fewest.gatewayCpuUsPerDelivery, 2);
    return [
      {
        path,
        [`µs/delivery, ${fewest.gateways}`]: fewest.gatewayCpuUsPerDelivery,
        [`µs/delivery, ${most.gateways}`]: most.gatewayCpuUsPerDelivery,
        ratio,
        goal: path === 'redis-streams' ? (ratio <= RATIO_GOAL ? 'met' : 'NOT met') : '-',
        'ratio above idle': round(most.gatewayCpuUsPerDeliveryAboveIdle / fewest.gatewayCpuUsPerDeliveryAboveIdle, 2),
        'Redis µs/msg ratio': round(most.redisCpuUsPerMessage / fewest.redisCpuUsPerMessage, 2),
      },
    ];
  });
}

function pathsOf(results: GatewaysResult[]): Array<Record<string, string | number>> {
  const ratio = (a: number, b: number) => round(a / b, 2);
  return results
    .filter((r) => r.path === 'legacy-backplane')
    .flatMap((legacy) => {
      const streams = results.find((r) => r.path === 'redis-streams' && r.gateways === legacy.gateways);
      if (!streams) return [];
      return [
        {
          gateways: legacy.gateways,
          'gw CPU/delivery': ratio(streams.gatewayCpuUsPerDelivery, legacy.gatewayCpuUsPerDelivery),
          'Redis CPU/msg': ratio(streams.redisCpuUsPerMessage, legacy.redisCpuUsPerMessage),
          'p50 streams / legacy': `${streams.latencyMs.p50} / ${legacy.latencyMs.p50}`,
          'p99 streams / legacy': `${streams.latencyMs.p99} / ${legacy.latencyMs.p99}`,
          'POST->201 p50 streams / legacy': `${streams.responseMs.p50} / ${legacy.responseMs.p50}`,
        },
      ];
    });
}

/** `--gateway-env A=1,B=2` as an object (values may not hold commas). */
function envList(value: string | undefined): Record<string, string> {
  if (!value) return {};
  return Object.fromEntries(
    value.split(',').map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--gateway-env takes KEY=VALUE pairs, got "${pair}"`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1)];
    }),
  );
}

const numbers = (value: string) => value.split(',').map(Number);

/** Options from the command line (`args`: what follows the script, `--gateways` itself ignored). */
export function gatewaysBenchOptions(args: string[]): GatewaysBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      gateways: { type: 'boolean', default: false },
      'gateways-list': { type: 'string', default: '1,12' },
      clients: { type: 'string', default: '1200' },
      rate: { type: 'string', default: '300' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      'room-size': { type: 'string', default: '4' },
      workers: { type: 'string', default: '2' },
      shards: { type: 'string' },
      'gateway-env': { type: 'string' },
      paths: { type: 'string', default: GATEWAY_PATHS.join(',') },
      'backplane-at': { type: 'string' },
      'backplane-channels': { type: 'string', default: 'one' },
      seed: { type: 'string', default: '25' },
    },
  });
  const counts = numbers(values['gateways-list']);
  const paths = values.paths.split(',') as GatewayPath[];
  for (const path of paths) if (!GATEWAY_PATHS.includes(path)) throw new Error(`--paths: unknown path ${path}`);
  const channels = values['backplane-channels'] as BackplaneChannels;
  if (channels !== 'one' && channels !== 'group') throw new Error('--backplane-channels takes one or group');
  return {
    counts,
    paths,
    backplaneAt: values['backplane-at'] ? numbers(values['backplane-at']) : [Math.max(...counts)],
    channels,
    shards: values.shards === undefined ? undefined : Number(values.shards),
    gatewayEnv: envList(values['gateway-env']),
    clients: Number(values.clients),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    roomSize: Number(values['room-size']),
    workers: Number(values.workers),
    seed: Number(values.seed),
  };
}

/** The bench with signal handling: Ctrl-C or a kill stops what runs (redis-servers, services, workers) first. */
export async function runGatewaysBenchFromArgs(args: string[]): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void disposeRunning().finally(() => process.exit(130)));
  }
  await runGatewaysBench(gatewaysBenchOptions(args));
}

if (require.main === module) {
  void runGatewaysBenchFromArgs(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
