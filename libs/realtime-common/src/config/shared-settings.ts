import type { RealtimeMetricsOption } from '../metrics/metric-factory';
import { ENVELOPE_LIMIT_DEFAULTS, STREAM_LAYOUT_DEFAULTS } from '@realtime-streams/contracts';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { clusterNode, clusterSeeds } from './cluster-nodes';
import { z } from 'zod';
import { codeOnly, integer, setting, urlOf } from './setting';

/**
 * Settings the publisher and the gateway must agree on, declared once: both schemas spread these, so the two
 * sides never disagree on a default or a bound.
 */
export const redisConnectionSettings = {
  url: setting(urlOf(['redis:', 'rediss:']).default(STREAM_LAYOUT_DEFAULTS.url), {
    env: 'REDIS_URL',
    doc: 'Redis for the streams (a single node). Ignored when `clusterNodes`, `options` or `client` is given.',
  }),
  clusterNodes: setting(
    z
      .array(clusterNode)
      .min(1)
      .max(100)
      .superRefine((nodes, context) => {
        try {
          clusterSeeds(nodes);
        } catch (error) {
          const reason = (error as Error).message.replace(/^REDIS_CLUSTER_NODES: /, '');
          context.addIssue({
            code: 'custom',
            message: `expected nodes that all give the same credentials and the same TLS setting (here: ${reason})`,
          });
        }
      })
      .optional(),
    {
      env: 'REDIS_CLUSTER_NODES',
      doc: 'Redis Cluster seed nodes, `host:port,host:port,...` (or `redis[s]://[user:password@]host:port` for credentials and TLS): selects ioredis Cluster instead of `REDIS_URL`. Publisher and gateway.',
    },
  ),
  /** ioredis Cluster options (`redisOptions` for password and TLS, NAT maps...), with `clusterNodes`. */
  clusterOptions: codeOnly<ClusterOptions>(
    (value) => typeof value === 'object' && value !== null,
    'ioredis Cluster options',
  ).optional(),
  /** ioredis options (TLS, Sentinel, password...): the module opens its connections with them instead of `url`. */
  options: codeOnly<RedisOptions>((value) => typeof value === 'object' && value !== null, 'ioredis options').optional(),
  /**
   * An ioredis client, single node or Cluster: the module opens its own connections with `client.duplicate()` and
   * leaves it alone.
   */
  client: codeOnly<Redis | Cluster>(
    (value) => typeof (value as Redis | undefined)?.duplicate === 'function',
    'an ioredis client (Redis or Cluster)',
  ).optional(),
};

export const streamLayoutSettings = {
  streamKeyPrefix: setting(
    z
      .string()
      .min(1)
      .max(200)
      // A brace in the prefix would become every shard's hash tag: all shards in one Redis Cluster slot.
      .regex(/^[^{}]+$/, 'a prefix with no { or } (the shard part carries the hash tag)')
      .default(STREAM_LAYOUT_DEFAULTS.streamKeyPrefix),
    {
      env: 'REALTIME_STREAM_KEY_PREFIX',
      doc: 'Streams are `<prefix>:{<tag>}`: the shard number on a single node, tags spread evenly over the slots on a cluster. Publisher and gateway.',
    },
  ),
  shards: setting(integer(1, 1024).default(STREAM_LAYOUT_DEFAULTS.shards), {
    env: 'REALTIME_STREAM_SHARDS',
    doc: 'Number of stream shards; a target always maps to the same one. Publisher and gateway.',
  }),
};

export const envelopeLimitSettings = {
  maxArgsBytes: setting(integer(1, 64 * 1024 * 1024).default(ENVELOPE_LIMIT_DEFAULTS.maxArgsBytes), {
    env: 'REALTIME_MAX_ARGS_BYTES',
    doc: 'Largest serialized `args` of one event (UTF-8 bytes); publisher and gateway. Must fit under `REALTIME_SLOW_CLIENT_HARD_BYTES` minus 256.',
  }),
  maxArgsDepth: setting(integer(1, 10_000).default(ENVELOPE_LIMIT_DEFAULTS.maxArgsDepth), {
    env: 'REALTIME_MAX_ARGS_DEPTH',
    doc: 'Deepest nesting of `args` (the args array is level 1); publisher and gateway.',
  }),
};

/** Where metrics go: prom-client's default registry when prom-client is installed, a registry of yours, or off. */
export const metricsSetting = codeOnly<RealtimeMetricsOption>(
  (value) => value === false || (typeof value === 'object' && value !== null),
  '{ registry } or false',
).optional();

export type RedisConnectionOptions = {
  url: string;
  options?: RedisOptions;
  clusterNodes?: readonly string[];
  clusterOptions?: ClusterOptions;
  client?: Redis | Cluster;
};
