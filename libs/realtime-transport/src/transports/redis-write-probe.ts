import { errorMessage } from '@realtime-streams/common';
import { sequenceKeyOf } from '@realtime-streams/contracts';
import { RedisWritesRefusedError, type WriteRefusal } from '../errors/redis-writes-refused.error';
import type { StreamAppender } from './stream-append.script';

/**
 * The reply's code: first word of the message (Redis 7 keeps it for errors raised inside a script), or after a `-`
 * (older servers wrap a script's error: `ERR Error running script ...: -READONLY You can't write ...`).
 */
const REFUSAL = /(?:^|-)(OOM|READONLY|MISCONF|NOREPLICAS)\s/;

/** Which refusal a Redis error reply is, or undefined for any other error (a timeout, a lost connection...). */
export function writeRefusalOf(error: unknown): WriteRefusal | undefined {
  const match = REFUSAL.exec(errorMessage(error));
  return match ? (match[1] as WriteRefusal) : undefined;
}

/** The error to report for a failed Redis write: a refusal as `RedisWritesRefusedError`, anything else as it is. */
export function explainWriteError(error: unknown): unknown {
  const refusal = writeRefusalOf(error);
  return refusal ? new RedisWritesRefusedError(refusal, errorMessage(error), { cause: error }) : error;
}

/**
 * Whether a shard takes appends now: the append script with no envelope, which writes `INCRBY <stream>:seq 0`.
 * A PING (or any read) passes on a Redis that refuses every write (maxmemory reached under noeviction, a former
 * primary now read-only, a failed snapshot with stop-writes-on-bgsave-error, too few replicas): the breaker would
 * close on it again and again, and each envelope spend its attempts on appends that cannot succeed. This probe
 * fails exactly when an append would, on the same key slot (so on a Cluster it asks the shard's own master).
 */
export async function probeWrites(redis: StreamAppender, stream: string): Promise<void> {
  try {
    await redis.realtimeAppend(stream, sequenceKeyOf(stream), '0', '0');
  } catch (error) {
    throw explainWriteError(error);
  }
}
