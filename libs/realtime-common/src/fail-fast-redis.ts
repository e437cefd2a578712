import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { clusterSeeds } from './config/cluster-nodes';
import type { RedisConnectionOptions } from './config/shared-settings';
import type { StreamKeyLayout } from '@realtime-streams/contracts';

/** A connection of the module's own: one Redis node, or a Redis Cluster (ioredis `Cluster`). */
export type RedisConnection = Redis | Cluster;

/**
 * An ioredis connection that fails fast instead of queueing: no offline queue, no retry of a command, no resend
 * after a reconnect. While Redis is down a command fails at once, so callers (the fallback chain, the consumer loop)
 * decide what to do, and nothing piles up in memory or comes back later as a duplicate. It reconnects forever,
 * quickly at first. Connect with `connect()`; close with `closeRedis()`.
 *
 * With `clusterNodes` (or a Cluster client to duplicate) it is an ioredis Cluster with the same spirit: redirections
 * (`MOVED`, `ASK`, `TRYAGAIN`) are followed, but a command whose node is gone or whose slots are down fails at once
 * instead of being retried for seconds, so only the shards of that node stop and the others keep flowing.
 */
export function createFailFastRedis(
  connection: RedisConnectionOptions | string,
  connectionName: string,
): RedisConnection {
  const failFast = failFastOptions(connectionName);
  if (typeof connection === 'string') return new Redis(connection, failFast);
  // A client of the application's: a connection of our own with its settings (TLS, Sentinel, password), so the
  // blocking reads and fail-fast settings never touch the application's connection.
  if (connection.client instanceof Cluster) {
    const client = connection.client;
    return client.duplicate(undefined, failFastCluster(client.options, failFast));
  }
  if (connection.client) return connection.client.duplicate(failFast);
  if (connection.clusterNodes?.length) {
    const { seeds, options } = clusterSeeds(connection.clusterNodes);
    const given = connection.clusterOptions ?? {};
    const merged: ClusterOptions = {
      ...options,
      ...given,
      redisOptions: { ...options.redisOptions, ...given.redisOptions },
    };
    return new Cluster(seeds, failFastCluster(merged, failFast));
  }
  if (connection.options) return new Redis({ ...connection.options, ...failFast });
  return new Redis(connection.url, failFast);
}

export function isCluster(redis: RedisConnection): redis is Cluster {
  return redis instanceof Cluster;
}

/** Whether these settings make Cluster connections (seed nodes given, or a Cluster client to duplicate). */
export function isClusterConfig(connection: RedisConnectionOptions): boolean {
  return (connection.clusterNodes?.length ?? 0) > 0 || connection.client instanceof Cluster;
}

/** The shard key layout that goes with these settings (see `StreamKeys`): both sides derive it the same way. */
export function streamKeyLayoutOf(connection: RedisConnectionOptions): StreamKeyLayout {
  return isClusterConfig(connection) ? 'balanced' : 'numbered';
}

/** What makes a connection fail fast; these win over the application's own options. */
function failFastOptions(connectionName: string): RedisOptions {
  return {
    lazyConnect: true,
    connectionName,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // ioredis waits this long for a socket that is already gone to say "close" when disconnecting.
    disconnectTimeout: 200,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  };
}

/**
 * Cluster settings over the application's: node connections fail fast (the pool reconnects them itself), a lost node
 * or a down cluster fails the command at once (`retryDelayOnFailover` / `retryDelayOnClusterDown` 0), `TRYAGAIN`
 * during a slot migration is retried a few times. A command for a node that is gone goes to another node, whose
 * `MOVED` refreshes the slot map (so does the publisher's shard probe); the periodic refresh (every 5 s) is only a
 * safety net: each refresh opens a connection of its own for `CLUSTER SLOTS`, and every 1 s cost a gateway with
 * one reader per shard about 6 % of a core.
 */
function failFastCluster(given: ClusterOptions, node: RedisOptions): ClusterOptions {
  const { retryStrategy: _nodeRetry, lazyConnect: _lazy, enableOfflineQueue: _queue, ...nodeOptions } = node;
  return {
    ...given,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 50,
    maxRedirections: 16,
    slotsRefreshTimeout: 1000,
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    redisOptions: { ...given.redisOptions, ...nodeOptions },
  };
}

/** QUIT when connected, then stop any pending reconnect (QUIT alone leaves its timer running while Redis is down). */
export async function closeRedis(redis: RedisConnection): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => undefined);
  if (redis.status !== 'end') redis.disconnect();
}
