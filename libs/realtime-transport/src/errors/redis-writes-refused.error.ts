import { TransportUnavailableError } from './transport-unavailable.error';

/** The error replies with which a Redis that still answers PING refuses writes. */
export type WriteRefusal = 'OOM' | 'READONLY' | 'MISCONF' | 'NOREPLICAS';

const WHAT_TO_DO: Record<WriteRefusal, string> = {
  OOM: 'it reached maxmemory under a noeviction policy; raise maxmemory or free memory (REALTIME_STREAM_MAXLEN and REALTIME_STREAM_RETENTION_MS bound the streams)',
  READONLY:
    'the node is a replica (a failover demoted it); point the connection at the primary, or connect through Sentinel or Cluster',
  MISCONF:
    'it failed to save its snapshot and stops writes (stop-writes-on-bgsave-error); fix its disk or its save settings',
  NOREPLICAS: 'fewer replicas than min-replicas-to-write are in sync; bring them back or lower the setting',
};

/**
 * Redis answered a write with a refusal while still answering reads and PING. The Redis Streams transport counts it
 * as a failure like any other (its breaker opens, envelopes wait or take the next transport), and says what to fix.
 */
export class RedisWritesRefusedError extends TransportUnavailableError {
  /** The refusal and what to fix, without the transport's name (for messages that name it already). */
  readonly reason: string;

  constructor(
    readonly refusal: WriteRefusal,
    reply: string,
    options?: { cause?: unknown },
  ) {
    const reason = `Redis refuses writes (${reply}): ${WHAT_TO_DO[refusal]}`;
    super('redis-streams', reason, options);
    this.name = 'RedisWritesRefusedError';
    this.reason = reason;
  }
}
