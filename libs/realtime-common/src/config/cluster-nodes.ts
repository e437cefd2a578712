import type { ClusterNode, ClusterOptions } from 'ioredis';
import { z } from 'zod';
import { redactUrl } from '../redact-url';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/**
 * One seed node of `REDIS_CLUSTER_NODES`: `host:port`, or a URL (`redis://[user:password@]host:port`, `rediss://`
 * for TLS) when the nodes need credentials or TLS. Validated here; turned into ioredis seeds by `clusterSeeds`.
 */
export const clusterNode = z.string().refine((value) => parseClusterNode(value) !== undefined, {
  message: 'expected host:port or redis[s]://[user:password@]host:port',
});

interface ParsedNode {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

function parseClusterNode(value: string): ParsedNode | undefined {
  if (value.includes('://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return undefined;
    const port = Number(url.port || 6379);
    if (!url.hostname || port < 1 || port > 65535) return undefined;
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls: url.protocol === 'rediss:',
    };
  }
  const match = HOST_PORT.exec(value);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port, tls: false };
}

/**
 * The seeds and node options ioredis Cluster takes for `REDIS_CLUSTER_NODES`. Credentials and TLS given on any seed
 * apply to every node (a cluster's nodes share them); seeds that disagree are refused rather than half-applied.
 */
export function clusterSeeds(nodes: readonly string[]): { seeds: ClusterNode[]; options: ClusterOptions } {
  const parsed = nodes.map((node) => {
    const result = parseClusterNode(node);
    if (!result) throw new Error(`Invalid Redis Cluster node "${redactUrl(node)}"`);
    return result;
  });
  const withAuth = parsed.filter((node) => node.password !== undefined || node.username !== undefined);
  const auth = withAuth[0];
  if (withAuth.some((node) => node.password !== auth.password || node.username !== auth.username)) {
    throw new Error('REDIS_CLUSTER_NODES: the nodes give different credentials');
  }
  const tls = parsed.some((node) => node.tls);
  // A mix would send the password in clear to some nodes, or expect TLS where there is none.
  if (tls && parsed.some((node) => !node.tls)) throw new Error('REDIS_CLUSTER_NODES: mix of rediss:// and plain nodes');
  const redisOptions: NonNullable<ClusterOptions['redisOptions']> = {};
  if (auth?.username) redisOptions.username = auth.username;
  if (auth?.password) redisOptions.password = auth.password;
  if (tls) redisOptions.tls = {};
  return { seeds: parsed.map(({ host, port }) => ({ host, port })), options: { redisOptions } };
}
