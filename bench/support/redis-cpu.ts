import Redis from 'ioredis';

/**
 * CPU seconds (user + system, every thread) each local redis-server has used since it started, by port: read
 * before and after a scenario, the difference is what Redis spent on it, which a shared box's throughput hides.
 */
export async function redisCpuSeconds(ports: readonly number[]): Promise<Map<number, number>> {
  const entries = await Promise.all(
    ports.map(async (port): Promise<[number, number]> => {
      // A plain connection, not a cluster client: INFO of this one node, whatever its role.
      const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await redis.connect();
        const info = await redis.info('cpu');
        return [port, field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')];
      } finally {
        redis.disconnect();
      }
    }),
  );
  return new Map(entries);
}

/**
 * How many times one local redis-server has run `command` since it started (`INFO commandstats`): read before and
 * after a scenario, the difference is, for `xreadgroup`, how many reads the gateways made.
 */
export async function redisCommandCalls(port: number, command: string): Promise<number> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    const info = await redis.info('commandstats');
    const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
    return match ? Number(match[1]) : 0;
  } finally {
    redis.disconnect();
  }
}

/** Seconds spent between two readings, summed over `ports`. */
export function cpuSpent(before: Map<number, number>, after: Map<number, number>, ports: readonly number[]): number {
  return ports.reduce((sum, port) => sum + (after.get(port) ?? 0) - (before.get(port) ?? 0), 0);
}

function field(info: string, name: string): number {
  const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  if (!match) throw new Error(`INFO cpu has no ${name}`);
  return Number(match[1]);
}
