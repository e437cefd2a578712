import { clusterSlotOf, type StreamKeyLayout } from '@realtime-streams/contracts';
import type { RedisStreamsOptions } from '@realtime-streams/transport';
import type { Cluster, Redis } from 'ioredis';
import { RedisCluster } from '../../test/support/redis-cluster';
import { RedisServer } from '../../test/support/redis-server';
import type { ServiceEnv } from '../../test/support/service-process';

export type SetupName = 'single node' | 'cluster';

/** A Redis the bench started, as each side of the comparison needs to be told about it and to look into it. */
export interface RedisSetup {
  readonly name: SetupName;
  /** For the api and gateway processes, shard count included. */
  readonly env: ServiceEnv;
  /** For `RealtimeTransportModule.forRoot({ redis })`, shard count included. */
  readonly moduleOptions: RedisStreamsOptions;
  /** How the shards' keys are tagged on this set-up (what the publisher picks for it). */
  readonly layout: StreamKeyLayout;
  masterPorts(): Promise<number[]>;
  replicaPorts(): Promise<number[]>;
  /** Port of the master that holds `key`. */
  masterOf(key: string): Promise<number>;
  /** A client for reading keys (the caller disconnects it). */
  client(): Redis | Cluster;
  dispose(): Promise<void>;
}

/**
 * Runs `run` on a fresh single redis-server, then on a fresh local 6-node cluster (3 masters, 3 replicas), both
 * with `shards` stream shards: one after the other, so the two never compete for the box's cores.
 */
export async function forEachRedisSetup<T>(shards: number, run: (redis: RedisSetup) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const start of [startSingleNode, startCluster]) {
    const redis = await start(shards);
    try {
      results.push(await run(redis));
    } finally {
      await redis.dispose();
    }
  }
  return results;
}

async function startSingleNode(shards: number): Promise<RedisSetup> {
  const server = await RedisServer.start();
  return {
    name: 'single node',
    env: { REDIS_URL: server.url, REALTIME_STREAM_SHARDS: String(shards) },
    moduleOptions: { url: server.url, shards },
    layout: 'numbered',
    masterPorts: async () => [server.port],
    replicaPorts: async () => [],
    masterOf: async () => server.port,
    client: () => server.client(),
    dispose: () => server.dispose(),
  };
}

async function startCluster(shards: number): Promise<RedisSetup> {
  const cluster = await RedisCluster.start();
  const masterPorts = async () => (await cluster.masters()).map((node) => node.port);
  return {
    name: 'cluster',
    // REDIS_URL dropped: a developer's shell may set it, and the cluster must be all the service sees.
    env: { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_URL: undefined, REALTIME_STREAM_SHARDS: String(shards) },
    moduleOptions: { clusterNodes: cluster.seeds.split(','), shards },
    layout: 'balanced',
    masterPorts,
    replicaPorts: async () => {
      const masters = await masterPorts();
      return cluster.servers.map((server) => server.port).filter((port) => !masters.includes(port));
    },
    masterOf: async (key) => (await cluster.masterOf(clusterSlotOf(key))).port,
    client: () => cluster.client(),
    dispose: () => cluster.dispose(),
  };
}
