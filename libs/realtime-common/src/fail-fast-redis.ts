import Redis, { type RedisOptions } from 'ioredis';
import type { RedisConnectionOptions } from './config/shared-settings';

/**
 * An ioredis connection that fails fast instead of queueing: no offline queue, no retry of a command, no resend
 * after a reconnect. While Redis is down a command fails at once, so callers (the fallback chain, the consumer loop)
 * decide what to do, and nothing piles up in memory or comes back later as a duplicate. It reconnects forever,
 * quickly at first. Connect with `connect()`; close with `closeRedis()`.
 */
export function createFailFastRedis(connection: RedisConnectionOptions | string, connectionName: string): Redis {
  const failFast = failFastOptions(connectionName);
  if (typeof connection === 'string') return new Redis(connection, failFast);
  // A client of the application's: a connection of our own with its settings (TLS, Sentinel, password), so the
  // blocking reads and fail-fast settings never touch the application's connection.
  if (connection.client) return connection.client.duplicate(failFast);
  if (connection.options) return new Redis({ ...connection.options, ...failFast });
  return new Redis(connection.url, failFast);
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

/** QUIT when connected, then stop any pending reconnect (QUIT alone leaves its timer running while Redis is down). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => undefined);
  if (redis.status !== 'end') redis.disconnect();
}
