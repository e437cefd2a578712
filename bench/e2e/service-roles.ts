import { randomBytes } from 'node:crypto';
import { LegacyApi } from '../legacy/legacy-api';
import { ServiceProcess, type ServiceEnv } from '../../test/support/service-process';
import { runScenario, type ScenarioResult } from './scenario';

/** `legacy-bridge`: the plan's baseline, one awaited POST per event inside the request (bench/legacy/). */
export type Transport = 'redis-streams' | 'http-bridge' | 'legacy-bridge';

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

/** The API of a transport: the reference service, or for `legacy-bridge` the baseline API posting to `gateway`. */
export async function startApiFor(
  redis: RedisEnv,
  transport: Transport,
  gateway: ServiceProcess,
  nodeArgs: string[],
  outbox: boolean,
): Promise<{ baseUrl: string; dispose(): Promise<void> }> {
  if (transport === 'legacy-bridge')
    return LegacyApi.start(`${gateway.baseUrl}/internal/realtime/events`, BRIDGE_SECRET);
  return startApi(redis, transport, gateway, nodeArgs, outbox);
}

export async function startApi(
  redis: RedisEnv,
  transport: Transport,
  gateway: ServiceProcess,
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
  gateway: ServiceProcess,
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
