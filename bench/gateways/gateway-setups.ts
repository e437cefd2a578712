import { randomBytes } from 'node:crypto';
import { RedisServer } from '../../test/support/redis-server';
import type { ServiceEnv, ServiceProcess } from '../../test/support/service-process';
import { startApi, startGateway, warningsOf } from '../e2e/service-roles';
import { BackplaneGateway } from '../legacy/backplane-gateway';
import type { BackplaneChannels } from '../legacy/backplane-relay';
import { LegacyApi } from '../legacy/legacy-api';

/**
 * `redis-streams`: the reference service, one api (`REALTIME_ROLE=api`, Redis Streams) and N gateways
 * (`REALTIME_ROLE=gateway`), each its own consumer group. `legacy-backplane`: the plan's baseline with N realtime
 * servers: the legacy API (one awaited POST per event, round-robin over the servers) and N backplane gateways
 * relaying through Redis pub/sub (bench/legacy/backplane-gateway.process.ts).
 */
export type GatewayPath = 'redis-streams' | 'legacy-backplane';
export const GATEWAY_PATHS: readonly GatewayPath[] = ['redis-streams', 'legacy-backplane'];

export interface SetupOptions {
  /** REALTIME_STREAM_SHARDS for the api and every gateway; undefined leaves the service's default. */
  shards?: number;
  /** Added to every reference gateway's settings (`--gateway-env`). */
  gatewayEnv: ServiceEnv;
  /** The backplane's channel layout. */
  channels: BackplaneChannels;
}

/** What one measurement runs against: a fresh redis-server, the api and the gateways. */
export interface RunningSetup {
  path: GatewayPath;
  gatewayPids: number[];
  /** Each gateway's hub, ws://.../hubs/chat. */
  hubUrls: string[];
  apiUrl: string;
  redisPort: number;
  /** WARN and ERROR lines of the gateways, each distinct one with its count. */
  warnings(): Array<{ line: string; count: number }>;
  dispose(): Promise<void>;
}

/** Gateways started at a time: twelve Nest processes compiling at once would take minutes on two cores. */
const STARTING_AT_ONCE = 3;

export async function startSetup(path: GatewayPath, count: number, options: SetupOptions): Promise<RunningSetup> {
  const redis = await RedisServer.start();
  const stops: Array<() => Promise<void>> = [() => redis.dispose()];
  const dispose = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    return path === 'redis-streams'
      ? await startStreams(redis, count, options, stops, dispose)
      : await startBackplane(redis, count, options, stops, dispose);
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function startStreams(
  redis: RedisServer,
  count: number,
  options: SetupOptions,
  stops: Array<() => Promise<void>>,
  dispose: () => Promise<void>,
): Promise<RunningSetup> {
  const env: ServiceEnv = { REDIS_URL: redis.url };
  if (options.shards !== undefined) env.REALTIME_STREAM_SHARDS = String(options.shards);
  const gateways = await inBatches(count, async (k) => {
    const gateway = await startGateway(env, 'redis-streams', [], {
      REALTIME_INSTANCE_ID: `gw-${k}`,
      ...options.gatewayEnv,
    });
    stops.push(() => gateway.dispose());
    return gateway;
  });
  // The api's bridge fallback points at the first gateway; with Redis up it never posts.
  const api = await startApi(env, 'redis-streams', gateways[0], [], true);
  stops.push(() => api.dispose());
  await healthy(api.baseUrl);
  return {
    path: 'redis-streams',
    gatewayPids: gateways.map((g) => g.pid!),
    hubUrls: gateways.map((g) => g.hubUrl.replace(/^http/, 'ws')),
    apiUrl: api.baseUrl,
    redisPort: redis.port,
    warnings: () => mergeWarnings(gateways.map((g: ServiceProcess) => warningsOf(g))),
    dispose,
  };
}

async function startBackplane(
  redis: RedisServer,
  count: number,
  options: SetupOptions,
  stops: Array<() => Promise<void>>,
  dispose: () => Promise<void>,
): Promise<RunningSetup> {
  const secret = randomBytes(32).toString('base64url');
  const gateways = await inBatches(count, async (k) => {
    const gateway = await BackplaneGateway.start({
      redisUrl: redis.url,
      channels: options.channels,
      bridgeSecret: secret,
      instanceId: `bp-${k}`,
    });
    stops.push(() => gateway.dispose());
    return gateway;
  });
  const api = await LegacyApi.start(
    gateways.map((g) => g.relayUrl),
    secret,
  );
  stops.push(() => api.dispose());
  return {
    path: 'legacy-backplane',
    gatewayPids: gateways.map((g) => g.pid),
    hubUrls: gateways.map((g) => g.hubUrl.replace(/^http/, 'ws')),
    apiUrl: api.baseUrl,
    redisPort: redis.port,
    warnings: () => mergeWarnings(gateways.map((g) => linesOf(g.output))),
    dispose,
  };
}

/**
 * The service's start answers on its first /health, 200 or 503; on a busy box its publisher may still be connecting
 * then (posts refused). Up: 200.
 */
async function healthy(baseUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${baseUrl}/health`);
    const body = await response.text();
    if (response.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${baseUrl}/health still ${response.status} after ${timeoutMs} ms: ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function inBatches<T>(count: number, start: (k: number) => Promise<T>): Promise<T[]> {
  const started: T[] = [];
  for (let k = 0; k < count; k += STARTING_AT_ONCE) {
    const batch = Array.from({ length: Math.min(STARTING_AT_ONCE, count - k) }, (_, i) => start(k + i));
    started.push(...(await Promise.all(batch)));
  }
  return started;
}

// eslint-disable-next-line no-control-regex
const COLOURS = /\x1b\[[0-9;]*m/g;

function linesOf(output: string[]): Array<{ line: string; count: number }> {
  const counts = new Map<string, number>();
  for (const line of output.join('').replace(COLOURS, '').split('\n')) {
    if (!/\b(WARN|ERROR)\b|Error/.test(line)) continue;
    const message = line.replace(/^\[Nest\]\s+\d+\s+-\s+.*?\s+(WARN|ERROR)/, '$1').trim();
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts].map(([line, count]) => ({ line, count }));
}

/** The test JWT secret is short on purpose; every gateway says so at start, which tells nothing about the run. */
const EXPECTED = /auth\.jwt\.secret \(JWT_SECRET\) is \d+ bytes/;

function mergeWarnings(lists: Array<Array<{ line: string; count: number }>>): Array<{ line: string; count: number }> {
  const counts = new Map<string, number>();
  for (const { line, count } of lists.flat()) {
    if (!EXPECTED.test(line)) counts.set(line, (counts.get(line) ?? 0) + count);
  }
  return [...counts].map(([line, count]) => ({ line, count }));
}
