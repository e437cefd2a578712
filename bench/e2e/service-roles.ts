import { randomBytes } from 'node:crypto';
import { BackplaneGateway } from '../legacy/backplane-gateway';
import { LegacyApi } from '../legacy/legacy-api';
import { ServiceProcess, type ServiceEnv } from '../../test/support/service-process';
import { runScenario, type ScenarioResult } from './scenario';

/**
 * `legacy-bridge`: the plan's baseline, one awaited POST per event inside the request (bench/legacy/), to the one
 * gateway's bridge receiver. `legacy-backplane`: the same API with several realtime servers, each POST to the next
 * one in turn, which relays it through Redis pub/sub to all of them (bench/legacy/backplane-gateway.process.ts).
 */
export type Transport = 'redis-streams' | 'http-bridge' | 'legacy-bridge' | 'legacy-backplane';

/**
 * Where the api and gateway find Redis: `{ REDIS_URL }` for a single node, `{ REDIS_CLUSTER_NODES }` for a cluster,
 * with `REALTIME_STREAM_SHARDS` when the run wants more than the default one shard.
 */
export type RedisEnv = ServiceEnv;

/** Split roles share the bridge secret (the service refuses to guess one): a fresh one per run. */
const BRIDGE_SECRET = randomBytes(32).toString('base64url');

/** A gateway of the reference service; `extra` adds to (and wins over) its settings (an instance id, ...). */
export async function startGateway(
  redis: RedisEnv,
  transport: Transport,
  nodeArgs: string[],
  extra: ServiceEnv = {},
): Promise<ServiceProcess> {
  return startService(
    {
      ...redis,
      REALTIME_ROLE: 'gateway',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_INSTANCE_ID: `bench-${transport}`,
      REALTIME_CONSUMER_BLOCK_MS: '5000',
      ...extra,
    },
    '',
    nodeArgs,
  );
}

/** The gateways of one transport: their hubs, where the baseline API posts, and how to stop them all. */
export interface GatewaySet {
  /** The first gateway's hub (clients of a single-gateway run all connect there). */
  readonly hubUrl: string;
  readonly hubUrls: string[];
  /** The first gateway's base URL (the reference api's bridge fallback posts there). */
  readonly baseUrl: string;
  /** Where a legacy API posts its events: the bridge receiver, or each backplane server's relay. */
  readonly postUrls: string[];
  readonly pids: number[];
  dispose(): Promise<void>;
}

/**
 * `count` gateways for `transport`: reference gateways (each its own consumer group), or for `legacy-backplane`
 * backplane servers on this run's Redis. `http-bridge` and `legacy-bridge` post to one gateway: one is started.
 */
export async function startGatewaysFor(
  redis: RedisEnv,
  transport: Transport,
  nodeArgs: string[],
  count: number,
): Promise<GatewaySet> {
  const started: Array<{ hubUrl: string; baseUrl: string; postUrl: string; pid: number; dispose(): Promise<void> }> =
    [];
  const dispose = async () => {
    for (const gateway of started.splice(0).reverse()) await gateway.dispose();
  };
  const single = transport === 'http-bridge' || transport === 'legacy-bridge';
  try {
    for (let k = 0; k < (single ? 1 : count); k++) {
      if (transport === 'legacy-backplane') {
        if (!redis.REDIS_URL) throw new Error('legacy-backplane needs a single Redis node (REDIS_URL)');
        const gateway = await BackplaneGateway.start({
          redisUrl: redis.REDIS_URL,
          channels: 'one',
          bridgeSecret: BRIDGE_SECRET,
          instanceId: `bench-backplane-${k}`,
        });
        started.push({ ...pick(gateway), postUrl: gateway.relayUrl, pid: gateway.pid });
      } else {
        const instance = count > 1 ? { REALTIME_INSTANCE_ID: `bench-${transport}-${k}` } : {};
        const gateway = await startGateway(redis, transport, nodeArgs, instance);
        started.push({ ...pick(gateway), postUrl: `${gateway.baseUrl}/internal/realtime/events`, pid: gateway.pid! });
      }
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    hubUrl: started[0].hubUrl,
    hubUrls: started.map((g) => g.hubUrl),
    baseUrl: started[0].baseUrl,
    postUrls: started.map((g) => g.postUrl),
    pids: started.map((g) => g.pid),
    dispose,
  };
}

function pick(gateway: { hubUrl: string; baseUrl: string; dispose(): Promise<void> }) {
  return { hubUrl: gateway.hubUrl, baseUrl: gateway.baseUrl, dispose: () => gateway.dispose() };
}

/**
 * The API of a transport: the reference service, or for `legacy-bridge` / `legacy-backplane` the baseline API
 * posting to the gateways (round-robin over them for the backplane).
 */
export async function startApiFor(
  redis: RedisEnv,
  transport: Transport,
  gateways: GatewaySet,
  nodeArgs: string[],
  outbox: boolean,
): Promise<{ baseUrl: string; dispose(): Promise<void> }> {
  if (transport === 'legacy-bridge' || transport === 'legacy-backplane')
    return LegacyApi.start(gateways.postUrls, BRIDGE_SECRET);
  return startApi(redis, transport, gateways, nodeArgs, outbox);
}

export async function startApi(
  redis: RedisEnv,
  transport: Transport,
  gateway: { baseUrl: string },
  nodeArgs: string[],
  outbox: boolean,
): Promise<ServiceProcess> {
  return startService(
    {
      ...redis,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_OUTBOX: String(outbox),
      REALTIME_HTTP_BRIDGE_URL: `${gateway.baseUrl}/internal/realtime/events`,
      REALTIME_USE_REDIS_STREAMS: transport === 'redis-streams' ? 'true' : 'false',
    },
    '',
    nodeArgs,
  );
}

/** A service that fails to start (no /health in 30 s on a busy box) is stopped, not left running. */
async function startService(env: ServiceEnv, envFile: string, nodeArgs: string[]): Promise<ServiceProcess> {
  const service = await ServiceProcess.prepare(env, envFile, nodeArgs);
  try {
    await service.start();
  } catch (error) {
    await service.dispose();
    throw error;
  }
  return service;
}

export interface Timing {
  warmup: number;
  seconds: number;
  workers: number;
}

/** One scenario against a running api and gateway, with a progress line headed `label` (the transport, a set-up). */
export async function runMeasured(
  label: string,
  scenario: { name: string; clients: number; typing: boolean },
  transport: Transport,
  api: { baseUrl: string },
  gateway: { hubUrl: string; hubUrls?: string[] },
  timing: Timing,
): Promise<ScenarioResult> {
  process.stdout.write(`${label}: ${scenario.name} ... `);
  const result = await runScenario({
    ...scenario,
    transport,
    rooms: Math.max(1, scenario.clients / 10),
    rate: scenario.clients,
    warmupSeconds: timing.warmup,
    seconds: timing.seconds,
    workers: timing.workers,
    apiUrl: api.baseUrl,
    hubUrl: gateway.hubUrl,
    hubUrls: gateway.hubUrls,
  });
  console.log(
    `p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, lost ${result.lost}, dup ${result.duplicates}`,
  );
  return result;
}

/** Nest colours its log lines with ANSI escapes. */
// eslint-disable-next-line no-control-regex
const COLOURS = /\x1b\[[0-9;]*m/g;

/**
 * The WARN and ERROR lines (and ioredis complaints) a service logged, each distinct message once with how often it came: a set-up that
 * loses messages usually said why.
 */
export function warningsOf(service: ServiceProcess): Array<{ line: string; count: number }> {
  const counts = new Map<string, number>();
  const lines = service.output.join('').replace(COLOURS, '').split('\n');
  for (const line of lines) {
    // ioredis reports a connection error nobody listened for on its own, without Nest's format.
    if (!/\b(WARN|ERROR)\b|\[ioredis\]/.test(line)) continue;
    // Drop the pid and timestamp Nest puts first, so repeats of one message count as one.
    const message = line.replace(/^\[Nest\]\s+\d+\s+-\s+.*?\s+(WARN|ERROR)/, '$1').trim();
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts].map(([line, count]) => ({ line, count }));
}
