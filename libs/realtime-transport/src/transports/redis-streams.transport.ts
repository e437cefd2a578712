import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import { closeRedis, createFailFastRedis, errorMessage } from '@realtime-streams/common';
import type { RealtimeTransport } from './realtime-transport.interface';
import { defineStreamAppend, type StreamAppender } from './stream-append.script';
import { sequenceKeyOf, StreamKeys } from '@realtime-streams/contracts';

/**
 * Appends envelopes to their shard's stream on a connection of its own: one script call per shard of a batch, which
 * numbers the entries (`n`) and trims by time (`MINID ~`) with a length bound as the memory guard (see
 * stream-append.script.ts).
 *
 * The offline queue is off and nothing is resent after a reconnect: while Redis is down a publish fails at once
 * and the fallback chain carries the envelope elsewhere, instead of ioredis buffering it without bound and
 * replaying it (as a duplicate) later. A batch is one pipeline: one write, one round trip.
 */
export class RedisStreamsTransport implements RealtimeTransport {
  readonly name = 'redis-streams' as const;
  readonly acknowledgementsMayBeLost = true;
  readonly keys: StreamKeys;
  private readonly logger = new Logger('RedisStreamsTransport');
  private readonly redis: Redis & StreamAppender;
  private readonly maxLen: string;
  private readonly retentionMs: string;
  /** Errors already logged during the current outage (cleared once connected). */
  private readonly loggedErrors = new Set<string>();

  constructor(options: NonNullable<ResolvedRealtimeTransportOptions['redis']>) {
    this.keys = new StreamKeys(options.streamKeyPrefix, options.shards);
    this.maxLen = String(options.maxLen);
    this.retentionMs = String(options.retentionMs);
    // Fail fast: the breaker, not the connection, decides where envelopes go while Redis is down.
    this.redis = defineStreamAppend(createFailFastRedis(options, 'realtime-publisher'));
    this.redis.on('error', (error: Error) => this.logError(error));
    this.redis.on('ready', () => {
      this.loggedErrors.clear();
      this.logger.log('Connected to Redis');
    });
  }

  /** The publishing connection, for health checks that want their own look at Redis. */
  get connection(): Redis {
    return this.redis;
  }

  async start(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (error) {
      // Not fatal: ioredis keeps reconnecting, the breaker routes around Redis meanwhile.
      this.logError(error as Error);
    }
  }

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
    const byShard = this.groupByShard(batch);
    const shards = [...byShard];
    const replies = new Array<Promise<unknown>>(shards.length);
    // Corking the socket turns the batch's commands into one write (one round trip) without ioredis's Pipeline
    // object, which allocates enough per batch to make garbage collection pauses show in the latency tail.
    const socket = this.redis.stream as { cork?: () => void; uncork?: () => void } | undefined;
    socket?.cork?.();
    try {
      for (let s = 0; s < shards.length; s++) {
        const [key, part] = shards[s];
        const json = part.map((i) => batch[i].json);
        replies[s] = this.redis.realtimeAppend(key, sequenceKeyOf(key), this.retentionMs, this.maxLen, ...json);
      }
    } finally {
      socket?.uncork?.();
    }
    const results = await Promise.allSettled(replies);
    let failed: number[] | undefined;
    let firstError: unknown;
    for (let s = 0; s < results.length; s++) {
      const result = results[s];
      if (result.status === 'rejected') {
        (failed ??= []).push(...shards[s][1]);
        firstError ??= result.reason;
      }
    }
    if (failed) {
      failed.sort((a, b) => a - b);
      const partial = failed.length === batch.length ? undefined : failed;
      throw new TransportPublishError(this.name, errorMessage(firstError), partial, { cause: firstError });
    }
  }

  /** Indexes of the batch's envelopes per stream key, in batch order (a room stays in order within its shard). */
  private groupByShard(batch: readonly OutboundEnvelope[]): Map<string, number[]> {
    const byShard = new Map<string, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const key = this.keys.forTarget(batch[i].targetKey);
      const part = byShard.get(key);
      if (part) part.push(i);
      else byShard.set(key, [i]);
    }
    return byShard;
  }

  async health(): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  private logError(error: Error): void {
    // ioredis reports every failed reconnect; each distinct error once per outage keeps the log readable.
    const message = errorMessage(error);
    if (this.loggedErrors.has(message) || this.loggedErrors.size > 10) return;
    this.loggedErrors.add(message);
    this.logger.warn(`Redis: ${message}`);
  }
}
