import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { OutboundEnvelope } from '../envelope/envelope.interface';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import type { RedisStreamsOptions } from '../realtime-transport-options.interface';
import { closeRedis, createFailFastRedis } from '../redis/fail-fast-redis';
import { errorMessage } from '../util/error-message';
import type { RealtimeTransport } from './realtime-transport.interface';
import { StreamKeys } from './stream-keys';

/**
 * `XADD <shard key> MAXLEN ~ <n> * e <envelope json>` on a connection of its own.
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
  private readonly redis: Redis;
  private readonly maxLen: string;
  /** Errors already logged during the current outage (cleared once connected). */
  private readonly loggedErrors = new Set<string>();

  constructor(options: Required<RedisStreamsOptions>) {
    this.keys = new StreamKeys(options.streamKeyPrefix, options.shards);
    this.maxLen = String(options.maxLen);
    // Fail fast: the breaker, not the connection, decides where envelopes go while Redis is down.
    this.redis = createFailFastRedis(options.url, 'realtime-publisher');
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
    if (this.redis.status !== 'ready') throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
    const replies = new Array<Promise<unknown>>(batch.length);
    // Corking the socket turns the batch's commands into one write (one round trip) without ioredis's Pipeline
    // object, which allocates enough per batch to make garbage collection pauses show in the latency tail.
    const socket = this.redis.stream as { cork?: () => void; uncork?: () => void } | undefined;
    socket?.cork?.();
    try {
      for (let i = 0; i < batch.length; i++) {
        const outbound = batch[i];
        replies[i] = this.redis.xadd(this.keys.forTarget(outbound.targetKey), 'MAXLEN', '~', this.maxLen, '*', 'e', outbound.json);
      }
    } finally {
      socket?.uncork?.();
    }
    const results = await Promise.allSettled(replies);
    let failed: number[] | undefined;
    let firstError: unknown;
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result.status === 'rejected') {
        (failed ??= []).push(i);
        firstError ??= result.reason;
      }
    }
    if (failed) {
      const partial = failed.length === batch.length ? undefined : failed;
      throw new TransportPublishError(this.name, errorMessage(firstError), partial, { cause: firstError });
    }
  }

  async health(): Promise<void> {
    if (this.redis.status !== 'ready') throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
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
