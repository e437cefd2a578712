import { sequenceKeyOf } from '@realtime-streams/contracts';
import type { RedisConnection } from '@realtime-streams/common';
import { fields } from './stream-groups';
import { sequenceOf, type StreamPosition, type StreamSequences } from './stream-sequences';

type Entry = [id: string, fields: string[]];

/**
 * How a group came to be ready: `created` at the end of the stream (first start), `existed` already, `resumed`
 * (recreated where this instance stood: nothing missed), `trimmed` (recreated at the start of a stream that was
 * trimmed past this instance: the next read counts the gap exactly), `lost` (the stream itself is new: Redis lost
 * it, and how much this instance had not read is unknown), `unplaced` (the group existed but its last-delivered
 * entry is gone: the check starts at the first entry read, and what was trimmed before it is not counted).
 */
export type GroupSetup = 'created' | 'existed' | 'resumed' | 'trimmed' | 'lost' | 'unplaced';

/**
 * Makes sure this instance's group exists on `key`, and that `sequences` knows the number of the last entry the
 * group has seen, which the gap check starts from.
 *
 * First start: the group is created at `$` in one transaction with a read of the shard's counter (same slot, so
 * this works on a cluster too): every entry numbered above the counter is the group's. A group that existed (this
 * instance restarted under the same id) starts from its last-delivered entry, when that entry is still there.
 *
 * After a failed read (`recovering`), the group may be gone: Redis restarted empty, or another instance removed
 * it while this one was stalled past the heartbeat TTL. It is recreated where this instance stood when that entry
 * is still in the stream; otherwise at `0`, and whether the stream is the same one, trimmed, or a new one (its
 * numbers started again) is told by its first entry and its counter.
 */
export async function ensureGroup(
  redis: RedisConnection,
  key: string,
  group: string,
  sequences: StreamSequences,
  recovering: boolean,
): Promise<GroupSetup> {
  if (!recovering) {
    const replies = await redis
      .multi()
      .get(sequenceKeyOf(key))
      .xgroup('CREATE', key, group, '$', 'MKSTREAM')
      .xrevrange(key, '+', '-', 'COUNT', 1)
      .exec()
      .catch((error: unknown) => {
        // EXECABORT says nothing; the command's own error does (`MOVED 13907 ...` on a cluster node).
        throw (error as { previousErrors?: unknown[] }).previousErrors?.[0] ?? error;
      });
    if (!replies) throw new Error(`MULTI on ${key} was discarded`);
    const [[counterError, counter], [createError], [, last]] = replies;
    if (counterError) throw counterError;
    if (createError && !isBusyGroup(createError)) throw createError;
    if (!createError) {
      const n = counterValue(counter) ?? 0;
      const [lastId, lastFields] = (last as Entry[] | null)?.[0] ?? [];
      sequences.set(key, { n, id: lastId !== undefined && sequenceOf(lastFields) === n ? lastId : undefined });
      return 'created';
    }
    return (await startFromGroup(redis, key, group, sequences)) ? 'existed' : 'unplaced';
  }

  const position = sequences.get(key);
  let from = '0';
  let setup: GroupSetup = 'lost';
  if (position?.id && (await redis.xrange(key, position.id, position.id)).length > 0) {
    from = position.id;
    setup = 'resumed';
  } else if (position && (await continuesNumbering(redis, key, position))) {
    setup = 'trimmed';
  }
  try {
    await redis.xgroup('CREATE', key, group, from, 'MKSTREAM');
  } catch (error) {
    if (!isBusyGroup(error)) throw error;
    return (await startFromGroup(redis, key, group, sequences)) ? 'existed' : 'unplaced';
  }
  // A new stream is numbered from 1 again.
  if (setup === 'lost' && position) sequences.set(key, { n: 0 });
  return setup;
}

/**
 * Interest routing: places this instance's group at the end of `key` as its reading starts, in one transaction with
 * a read of the shard's counter and last entry (same slot: a cluster takes it too), so the gap check starts at the
 * last entry numbered before, and nothing appended after is missed. A group of an earlier life of this instance
 * (same id, restarted) is removed first with its pending entries: they were for connections that are gone.
 * Returns the id of the stream's last entry (`0-0` for an empty stream): where this instance's position starts, and
 * the last `tail` entries (oldest first): what came just before, whose targets' order this gateway did not see.
 */
export async function startGroupAtEnd(
  redis: RedisConnection,
  key: string,
  group: string,
  sequences: StreamSequences,
  tail = 1,
): Promise<{ from: string; before: Entry[] }> {
  const replies = await redis
    .multi()
    .get(sequenceKeyOf(key))
    // Fails on a stream that does not exist yet (nothing to remove then): that error is expected.
    .xgroup('DESTROY', key, group)
    .xgroup('CREATE', key, group, '$', 'MKSTREAM')
    .xrevrange(key, '+', '-', 'COUNT', Math.max(1, tail))
    .exec()
    .catch((error: unknown) => {
      throw (error as { previousErrors?: unknown[] }).previousErrors?.[0] ?? error;
    });
  if (!replies) throw new Error(`MULTI on ${key} was discarded`);
  const [[counterError, counter], , [createError], [, last]] = replies;
  if (counterError) throw counterError;
  if (createError) throw createError;
  const n = counterValue(counter) ?? 0;
  const latest = (last as Entry[] | null) ?? [];
  const [lastId, lastFields] = latest[0] ?? [];
  sequences.set(key, { n, id: lastId !== undefined && sequenceOf(lastFields) === n ? lastId : undefined });
  return { from: lastId ?? '0-0', before: latest.reverse() };
}

/**
 * Interest routing, after a failed start: places this instance's group at `id` (a time-based id: what was appended
 * since the first failed attempt is read), in one transaction with the entry just before it, whose number the gap
 * check starts from (none there: the first entry read is where it starts). Returns `id`, the position.
 */
export async function startGroupAt(
  redis: RedisConnection,
  key: string,
  group: string,
  sequences: StreamSequences,
  id: string,
): Promise<string> {
  const replies = await redis
    .multi()
    .xgroup('DESTROY', key, group)
    .xgroup('CREATE', key, group, id, 'MKSTREAM')
    .xrevrange(key, `(${id}`, '-', 'COUNT', 1)
    .exec()
    .catch((error: unknown) => {
      throw (error as { previousErrors?: unknown[] }).previousErrors?.[0] ?? error;
    });
  if (!replies) throw new Error(`MULTI on ${key} was discarded`);
  const [, [createError], [, before]] = replies;
  if (createError) throw createError;
  const [beforeId, beforeFields] = (before as Entry[] | null)?.[0] ?? [];
  const n = sequenceOf(beforeFields);
  if (beforeId !== undefined && n !== undefined) sequences.set(key, { n, id: beforeId });
  else sequences.forget(key);
  return id;
}

/**
 * The position of an existing group: its last-delivered entry's number, if that entry is still in the stream.
 * Returns false when it cannot be known (the first entry read is where the check starts then).
 */
async function startFromGroup(
  redis: RedisConnection,
  key: string,
  group: string,
  sequences: StreamSequences,
): Promise<boolean> {
  if (sequences.get(key)) return true;
  const groups = ((await redis.xinfo('GROUPS', key)) as unknown[]).map(fields);
  const lastId = groups.find((g) => g.name === group)?.['last-delivered-id'];
  // A group that never got an entry: everything in the stream is still to read.
  if (typeof lastId !== 'string' || lastId === '0-0') return true;
  const [entry] = (await redis.xrange(key, lastId, lastId)) as Entry[];
  const n = sequenceOf(entry?.[1]);
  if (n !== undefined) sequences.set(key, { n, id: lastId });
  return n !== undefined || entry !== undefined;
}

/**
 * Whether the stream is still the one `position` was read from, only trimmed past it: its first entry is numbered
 * above the position (or, with no numbered first entry, the counter has not gone back below it).
 */
async function continuesNumbering(redis: RedisConnection, key: string, position: StreamPosition): Promise<boolean> {
  const [first] = (await redis.xrange(key, '-', '+', 'COUNT', 1)) as Entry[];
  const firstN = sequenceOf(first?.[1]);
  if (firstN !== undefined) return firstN > position.n;
  const counter = counterValue(await redis.get(sequenceKeyOf(key)));
  return counter !== undefined && counter >= position.n;
}

function counterValue(reply: unknown): number | undefined {
  if (reply === null || reply === undefined) return undefined;
  const n = Number(reply);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The shard's counter (`GET <stream>:seq`): the number of the last entry appended, undefined when there is none. */
export async function readCounter(redis: RedisConnection, key: string): Promise<number | undefined> {
  return counterValue(await redis.get(sequenceKeyOf(key)));
}

function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP');
}
