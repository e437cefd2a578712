/**
 * The reference API's accept throughput: `POST /rooms/:roomId/messages` at a constant arrival rate (open loop: what
 * is due is sent whatever is still in flight, so a saturated server shows as latency and errors, not as a slower
 * load), against the reference service as `REALTIME_ROLE=api` with Redis Streams (a redis-server of the bench's own)
 * and the outbox on (durable accept: 201 only once the message and its outbox record committed). Several rooms,
 * several senders per room, each with its own HS256 token, as the e2e bench posts.
 *
 * In the same run, rate by rate right after the api, the same load against a floor
 * (bench/api-throughput-floor.process.ts): a bare `node:http` server with the same SQLite store (group commit
 * included), token check and outbox record, no framework, no publisher.
 *
 * For each rate: accepted/s (201s over the measured window, from the first measured send to the last answer),
 * POST -> 201 p50 / p95 / p99 from each request's scheduled time (a queue in the client counts), errors, and the
 * server process's CPU. After the sweep, the api's outbox must be empty and Redis must hold one entry per 201.
 *
 *   npm run bench:api [-- --rates 1000,2000,3000,4000 --seconds 5 --warmup 2 --rooms 50 --no-floor]
 *
 * `DATABASE_URL=postgres://...` runs the api on PostgreSQL instead (the floor stays on SQLite). `BENCH_CPU_PROF=<dir>`
 * writes the api's CPU profile there. Prints a table and writes bench/results/api-throughput.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sequenceKeyOf, streamKey } from '@realtime-streams/contracts';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { serviceToken } from '../test/support/chat-api';
import { freePort } from '../test/support/free-port';
import { RedisServer } from '../test/support/redis-server';
import { SERVICE_JWT_SECRET, ServiceProcess } from '../test/support/service-process';
import { runOpenLoop, scheduleMessages, type ScheduledMessage } from './scale/open-loop';
import { LatencyRecorder } from './support/latency-recorder';
import { cpuMicros } from './support/process-usage';
import { machine, printTable, writeResult } from './support/report';

const ROOT = join(__dirname, '..');
const MEMBERS_PER_ROOM = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Target {
  name: string;
  baseUrl: string;
  pid: number;
  /** The SQLite file, where the outbox is checked after the sweep. */
  databasePath?: string;
  dispose(): Promise<void>;
}

interface RateResult {
  target: string;
  offered: number;
  sent: number;
  accepted: number;
  acceptedPerSecond: number;
  errors: number;
  /** Status codes (or `error`) of the failures, with their counts. */
  failures: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Server CPU over the measured window, in % of one core. */
  cpuPercent: number;
  /** Server CPU per accepted message, in µs: what a message costs, whatever else the machine runs. */
  cpuMicrosPerMessage: number;
  /** This process's CPU (the load) over the same window: on a small machine the client competes with the server. */
  clientCpuPercent: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '1000,2000,3000,4000' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      rooms: { type: 'string', default: '50' },
      connections: { type: 'string', default: '128' },
      'no-floor': { type: 'boolean', default: false },
    },
  });
  const rates = values.rates.split(',').map(Number);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const rooms = roomsOf(Number(values.rooms));
  const connections = Number(values.connections);
  const databaseUrl = process.env.DATABASE_URL;

  const redis = await RedisServer.start();
  const results: RateResult[] = [];
  let delivery: { accepted: number; appended: number; outboxLeft: number | string } | undefined;
  const targets: Target[] = [];
  try {
    targets.push(await startApi(redis.url, databaseUrl));
    if (!values['no-floor']) targets.push(await startFloor());
    // Rate by rate, the api then the floor: on a shared machine both see the same neighbours.
    const accepted = new Map<Target, number>();
    for (const rate of rates) {
      for (const target of targets) {
        const result = await measure(target, rate, rooms, warmup, seconds, connections);
        accepted.set(target, (accepted.get(target) ?? 0) + result.sent - result.errors);
        results.push(result);
      }
    }
    delivery = await checkDelivery(targets[0], redis, accepted.get(targets[0]) ?? 0, databaseUrl);
  } finally {
    for (const target of targets) await target.dispose();
    await redis.dispose();
  }

  const m = machine();
  console.log(
    `\nPOST /rooms/:roomId/messages, open loop, ${rooms.size} rooms x ${MEMBERS_PER_ROOM} senders, ` +
      `${warmup} s warm-up + ${seconds} s measured per rate, ${connections} connections; store ` +
      `${databaseUrl ? 'PostgreSQL' : 'SQLite'}, outbox on, Redis Streams; ${m.cpus} CPUs (${m.cpuModel}), ` +
      `shared machine, load ${m.loadAverage.join(', ')}\n`,
  );
  printTable(
    results.map((r) => ({
      server: r.target,
      'offered/s': r.offered,
      'accepted/s': Math.round(r.acceptedPerSecond),
      'p50 ms': r.latencyMs.p50,
      'p95 ms': r.latencyMs.p95,
      'p99 ms': r.latencyMs.p99,
      'max ms': r.latencyMs.max,
      errors: r.errors,
      'server CPU %': r.cpuPercent,
      'server µs/msg': r.cpuMicrosPerMessage,
      'client CPU %': r.clientCpuPercent,
    })),
  );
  if (delivery) {
    console.log(
      `\nreference api: ${delivery.accepted} messages accepted (201), ${delivery.appended} appended to Redis, ` +
        `outbox left: ${delivery.outboxLeft}`,
    );
  }
  const file = writeResult('api-throughput', {
    date: new Date().toISOString(),
    machine: m,
    store: databaseUrl ? 'postgres' : 'sqlite',
    rooms: rooms.size,
    membersPerRoom: MEMBERS_PER_ROOM,
    warmupSeconds: warmup,
    seconds,
    connections,
    results,
    delivery,
  });
  console.log(`Wrote ${file}`);
}

/** `count` rooms of `MEMBERS_PER_ROOM` senders each. */
function roomsOf(count: number): Map<string, string[]> {
  const rooms = new Map<string, string[]>();
  for (let r = 0; r < count; r++) {
    rooms.set(
      `bench-${r}`,
      Array.from({ length: MEMBERS_PER_ROOM }, (_, u) => `user-${r}-${u}`),
    );
  }
  return rooms;
}

async function startApi(redisUrl: string, databaseUrl: string | undefined): Promise<Target> {
  const profile = process.env.BENCH_CPU_PROF;
  const service = await ServiceProcess.start(
    {
      REDIS_URL: redisUrl,
      REALTIME_ROLE: 'api',
      REALTIME_OUTBOX: 'true',
      REALTIME_USE_REDIS_STREAMS: 'true',
      // No bridge: Redis Streams only, as a split deployment without the legacy path runs.
      REALTIME_HTTP_BRIDGE_URL: undefined,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    '',
    profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
  );
  return {
    name: `reference api${databaseUrl ? ' (PostgreSQL)' : ''}`,
    baseUrl: service.baseUrl,
    pid: service.pid!,
    databasePath: databaseUrl ? undefined : service.childEnv.DATABASE_PATH,
    dispose: () => service.dispose(),
  };
}

async function startFloor(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'api-floor-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'bench/api-throughput-floor.process.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        PORT: String(port),
        JWT_SECRET: SERVICE_JWT_SECRET,
        DATABASE_PATH: join(dir, 'floor.sqlite'),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`floor exited (${child.exitCode})`);
    if (
      await fetch(`${baseUrl}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('floor did not answer /health in 30 s');
    await sleep(100);
  }
  return {
    name: 'floor (node:http + same store)',
    baseUrl,
    pid: child.pid!,
    dispose: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One rate against one server, with a progress line. */
async function measure(
  target: Target,
  rate: number,
  rooms: Map<string, string[]>,
  warmup: number,
  seconds: number,
  connections: number,
): Promise<RateResult> {
  process.stdout.write(`${target.name}: ${rate} msg/s ... `);
  const result = await runRate(target, rate, rooms, warmup, seconds, connections);
  console.log(
    `accepted ${Math.round(result.acceptedPerSecond)}/s, p50 ${result.latencyMs.p50} ms, ` +
      `p99 ${result.latencyMs.p99} ms, errors ${result.errors}`,
  );
  await sleep(1000);
  return result;
}

async function runRate(
  target: Target,
  rate: number,
  rooms: Map<string, string[]>,
  warmup: number,
  seconds: number,
  connections: number,
): Promise<RateResult> {
  const pool = new Pool(target.baseUrl, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const tokens = new Map<string, string>();
  const tokenOf = (user: string) => tokens.get(user) ?? tokens.set(user, serviceToken(user)).get(user)!;
  for (const members of rooms.values()) for (const user of members) tokenOf(user);

  const messages = scheduleMessages(rooms, rate, warmup, seconds);
  const latency = new LatencyRecorder();
  const failures: Record<string, number> = {};
  let sent = 0;
  let errors = 0;
  let measuredAccepted = 0;
  let lastAnswer = 0;
  let measuredFrom = 0;
  let cpuFrom = 0;
  let clientCpuFrom = process.cpuUsage();
  const started = performance.now();

  const send = async (message: ScheduledMessage): Promise<void> => {
    sent++;
    let status: string;
    try {
      const response = await pool.request({
        path: `/rooms/${message.room}/messages`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(message.sender)}` },
        body: JSON.stringify({
          text: `${message.sender} #${message.seq}: a chat message of a usual length, about 80 bytes`,
        }),
      });
      await response.body.dump();
      status = String(response.statusCode);
    } catch {
      status = 'error';
    }
    const now = performance.now();
    if (status !== '201') {
      errors++;
      failures[status] = (failures[status] ?? 0) + 1;
      return;
    }
    if (!message.measured) return;
    measuredAccepted++;
    lastAnswer = now;
    latency.record(now - started - message.at);
  };

  await runOpenLoop(messages, send, () => {
    measuredFrom = performance.now();
    cpuFrom = cpuMicros(target.pid);
    clientCpuFrom = process.cpuUsage();
  });
  const cpuUs = cpuMicros(target.pid) - cpuFrom;
  const clientCpu = process.cpuUsage(clientCpuFrom);
  const windowMs = Math.max(lastAnswer, measuredFrom + seconds * 1000) - measuredFrom;
  await pool.close();
  const summary = latency.summary();
  return {
    target: target.name,
    offered: rate,
    sent,
    accepted: measuredAccepted,
    acceptedPerSecond: (measuredAccepted * 1000) / windowMs,
    errors,
    failures,
    latencyMs: { p50: round(summary.p50), p95: round(summary.p95), p99: round(summary.p99), max: round(summary.max) },
    cpuPercent: Math.round((cpuUs / 1000 / windowMs) * 100),
    cpuMicrosPerMessage: measuredAccepted > 0 ? Math.round(cpuUs / measuredAccepted) : NaN,
    clientCpuPercent: Math.round(((clientCpu.user + clientCpu.system) / 1000 / windowMs) * 100),
  };
}

/**
 * Nothing accepted may be lost: once the publisher settled, Redis holds one entry per 201 (the shard's counter) and
 * the outbox is empty (every record acknowledged and removed).
 */
async function checkDelivery(
  api: Target,
  redis: RedisServer,
  accepted: number,
  databaseUrl: string | undefined,
): Promise<{ accepted: number; appended: number; outboxLeft: number | string }> {
  const client = redis.client();
  try {
    const counter = sequenceKeyOf(streamKey('realtime', 0));
    let appended = 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      appended = Number((await client.get(counter)) ?? 0);
      if (appended >= accepted) break;
      await sleep(100);
    }
    // The removals follow the acknowledgements in batches; give them a moment.
    await sleep(500);
    const outboxLeft = databaseUrl ? 'not checked (PostgreSQL)' : sqliteOutboxCount(api);
    return { accepted, appended, outboxLeft };
  } finally {
    client.disconnect();
  }
}

function sqliteOutboxCount(api: Target): number | string {
  if (!api.databasePath) return 'unknown';
  const db = new Database(api.databasePath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM realtime_outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
