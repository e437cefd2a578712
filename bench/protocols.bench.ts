/**
 * JSON and MessagePack clients on the same path (Redis Streams), in one run on one machine: stock
 * @microsoft/signalr clients, with `withHubProtocol(new MessagePackHubProtocol())` for MessagePack. Per protocol:
 *   - latency percentiles, as the e2e bench measures them (API accept to client receipt), lost and duplicates;
 *   - gateway CPU µs per delivered message, from the gateway process's CPU time (/proc) while posting, minus its
 *     idle CPU;
 *   - bytes per delivered message: what the gateway wrote to its sockets (`wchar`, so WebSocket framing included)
 *     and the invocation frames alone (`realtime_hub_invocation_bytes_total`).
 * Protocols alternate over rounds (JSON, MessagePack, JSON, ...) with a fresh gateway each time, so drift on a
 * shared machine hits both alike.
 *
 *   npm run bench -- --protocols     (or npm run bench:protocols)
 *   options: --clients 500 --rounds 2 --seconds 10 --warmup 2 --workers 2
 *
 * Prints a table and writes bench/results/protocols.json.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { RedisServer } from '../test/support/redis-server';
import type { ServiceProcess } from '../test/support/service-process';
import { runScenario, type ScenarioResult } from './e2e/scenario';
import { startApi, startGateway } from './e2e/service-roles';
import { cpuMicros, usageFrom } from './support/process-usage';
import { machine, printTable, writeResult } from './support/report';

type Protocol = 'json' | 'messagepack';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ProtocolRun {
  protocol: Protocol;
  round: number;
  result: ScenarioResult;
  deliveries: number;
  cpuUsPerDelivery: number;
  wireBytesPerDelivery: number;
  frameBytesPerDelivery: number;
}

/** `realtime_hub_invocation_{frames,bytes}_total` of one protocol, from a gateway's /metrics. */
async function framesAndBytes(gateway: ServiceProcess, protocol: Protocol): Promise<{ frames: number; bytes: number }> {
  const text = await gateway.metrics();
  const value = (name: string) =>
    Number(new RegExp(`^${name}\\{protocol="${protocol}"\\} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? 0);
  return { frames: value('realtime_hub_invocation_frames_total'), bytes: value('realtime_hub_invocation_bytes_total') };
}

export async function runProtocolsBench(options: {
  clients: number;
  rounds: number;
  seconds: number;
  warmup: number;
  workers: number;
}): Promise<void> {
  const redis = await RedisServer.start();
  const env = { REDIS_URL: redis.url };
  const runs: ProtocolRun[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const protocol of ['json', 'messagepack'] as const) {
        const gateway = await startGateway(env, 'redis-streams', []);
        const api = await startApi(env, 'redis-streams', gateway, [], false);
        try {
          runs.push(await measure(protocol, round, gateway, api.baseUrl, options));
        } finally {
          await api.dispose();
          await gateway.dispose();
        }
      }
    }
  } finally {
    await redis.dispose();
  }
  report(runs, options);
}

async function measure(
  protocol: Protocol,
  round: number,
  gateway: ServiceProcess,
  apiUrl: string,
  options: { clients: number; seconds: number; warmup: number; workers: number },
): Promise<ProtocolRun> {
  const pid = gateway.pid!;
  process.stdout.write(`${protocol}, round ${round}: ${options.clients} clients ... `);
  let usage: ReturnType<typeof usageFrom> | undefined;
  let spent: { cpuUs: number; bytes: number; ms: number } | undefined;
  const result = await runScenario({
    name: `${options.clients} clients, ${protocol}`,
    transport: 'redis-streams',
    clients: options.clients,
    rooms: Math.max(1, options.clients / 10),
    rate: options.clients,
    warmupSeconds: options.warmup,
    seconds: options.seconds,
    typing: false,
    workers: options.workers,
    apiUrl,
    hubUrl: gateway.hubUrl,
    protocol,
    posting: {
      started: () => {
        usage = usageFrom(pid);
      },
      ended: () => {
        spent = usage!.stop();
      },
    },
  });
  // Idle CPU (sweeps, pings, the blocked read) with the clients gone is what the gateway spends doing nothing.
  const idleStart = cpuMicros(pid);
  await sleep(2000);
  const idleUsPerMs = (cpuMicros(pid) - idleStart) / 2000;
  // A fresh gateway per run: its counters hold this run's deliveries only (warm-up included, as the window is).
  const frames = await framesAndBytes(gateway, protocol);
  const deliveries = Math.max(1, frames.frames);
  const cpuUs = spent!.cpuUs - idleUsPerMs * spent!.ms;
  const run: ProtocolRun = {
    protocol,
    round,
    result,
    deliveries,
    cpuUsPerDelivery: Math.round((cpuUs / deliveries) * 100) / 100,
    wireBytesPerDelivery: Math.round((spent!.bytes / deliveries) * 10) / 10,
    frameBytesPerDelivery: Math.round((frames.bytes / deliveries) * 10) / 10,
  };
  console.log(
    `p50 ${result.latencyMs.p50} ms, ${run.cpuUsPerDelivery} µs and ${run.wireBytesPerDelivery} B per delivery, ` +
      `lost ${result.lost}`,
  );
  return run;
}

function report(runs: ProtocolRun[], options: Record<string, unknown>): void {
  const m = machine();
  console.log(
    `\nJSON vs MessagePack clients, Redis Streams path; ${m.cpus} CPUs, ${m.cpuModel}, load ${m.loadAverage.join(' ')}\n`,
  );
  printTable(
    runs.map((run) => ({
      protocol: run.protocol,
      round: run.round,
      'msg/s': run.result.rate,
      deliveries: run.deliveries,
      p50: run.result.latencyMs.p50,
      p95: run.result.latencyMs.p95,
      p99: run.result.latencyMs.p99,
      lost: run.result.lost,
      dup: run.result.duplicates,
      'gateway CPU µs/delivery': run.cpuUsPerDelivery,
      'wire B/delivery': run.wireBytesPerDelivery,
      'frame B/delivery': run.frameBytesPerDelivery,
    })),
  );
  const mean = (protocol: Protocol, pick: (run: ProtocolRun) => number) => {
    const mine = runs.filter((run) => run.protocol === protocol);
    return mine.reduce((sum, run) => sum + pick(run), 0) / Math.max(1, mine.length);
  };
  const ratio = (pick: (run: ProtocolRun) => number) =>
    Math.round((mean('messagepack', pick) / mean('json', pick)) * 100) / 100;
  const comparison = {
    'CPU per delivery': ratio((run) => run.cpuUsPerDelivery),
    'wire bytes per delivery': ratio((run) => run.wireBytesPerDelivery),
    'frame bytes per delivery': ratio((run) => run.frameBytesPerDelivery),
    p50: ratio((run) => run.result.latencyMs.p50),
    p99: ratio((run) => run.result.latencyMs.p99),
  };
  console.log('\nMessagePack / JSON, means over the rounds (below 1: MessagePack costs less)\n');
  printTable([comparison]);
  const file = writeResult('protocols', { date: new Date().toISOString(), machine: m, options, runs, comparison });
  console.log(`\nWrote ${file}`);
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      workers: { type: 'string', default: '2' },
    },
  });
  void runProtocolsBench({
    clients: Number(values.clients),
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    workers: Number(values.workers),
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
