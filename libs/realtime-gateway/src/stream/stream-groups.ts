import type { RedisConnection } from '@realtime-streams/common';

/** Consumer group of one gateway instance: every instance reads every event, since each holds different sockets. */
export function groupName(instanceId: string): string {
  return `gateway:${instanceId}`;
}

export const GROUP_PREFIX = 'gateway:';

/**
 * Creates the group on each stream (and the stream if needed). `BUSYGROUP` means it exists already: success.
 * `from` is `$` for a first start (no history to replay) and `0` after Redis lost the group, when everything in
 * the (new) stream came after the loss. Returns how many groups it had to create.
 */
export async function ensureGroups(
  redis: RedisConnection,
  keys: readonly string[],
  group: string,
  from: '$' | '0',
): Promise<number> {
  let created = 0;
  for (const key of keys) {
    try {
      await redis.xgroup('CREATE', key, group, from, 'MKSTREAM');
      created++;
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }
  return created;
}

export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/** XINFO replies are flat [name, value, name, value, ...] arrays. */
export function fields(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

/** Key whose presence says the gateway instance is alive; it expires `ttlMs` after the instance's last beat. */
export function heartbeatKey(streamKeyPrefix: string, instanceId: string): string {
  return `${streamKeyPrefix}:gateway:${instanceId}`;
}

/** Marks this instance alive for `ttlMs`: other instances remove the consumer groups of instances without one. */
export async function heartbeat(redis: RedisConnection, key: string, ttlMs: number): Promise<void> {
  await redis.set(key, String(Date.now()), 'PX', ttlMs);
}
