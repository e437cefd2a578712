import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { OutboundEnvelope } from '../envelope/envelope.interface';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportUnavailableError } from '../errors/transport-unavailable.error';
import type { RedisStreamsOptions } from '../realtime-transport-options.interface';
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
  readonly keys: StreamKeys;
  private readonly logger = new Logger('RedisStreamsTransport');
  private readonly redis: Redis;
  private readonly maxLen: string;
  private lastErrorLogged = '';

  constructor(options: Required<RedisStreamsOptions>) {
    this.keys = new StreamKeys(options.streamKeyPrefix, options.shards);
    this.maxLen = String(options.maxLen);
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      connectionName: 'realtime-publisher',
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // Reconnect forever, quickly at first: the breaker, not the connection, decides where envelopes go.
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    });
    this.redis.on('error', (error: Error) => this.logError(error));
    this.redis.on('ready', () => {
      this.lastErrorLogged = '';
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
    const pipeline = this.redis.pipeline();
    for (const outbound of batch) {
      pipeline.xadd(this.keys.forTarget(outbound.targetKey), 'MAXLEN', '~', this.maxLen, '*', 'e', outbound.json);
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw new TransportPublishError(this.name, errorMessage(error), undefined, { cause: error });
    }
    if (!results) throw new TransportPublishError(this.name, 'pipeline returned no results');
    let failed: number[] | undefined;
    let firstError: Error | undefined;
    for (let i = 0; i < results.length; i++) {
      const error = results[i][0];
      if (error) {
        (failed ??= []).push(i);
        firstError ??= error;
      }
    }
    if (failed) {
      throw new TransportPublishError(this.name, errorMessage(firstError), failed.length === batch.length ? undefined : failed, {
        cause: firstError,
      });
    }
  }

  async health(): Promise<void> {
    if (this.redis.status !== 'ready') {
      throw new TransportUnavailableError(this.name, `connection is ${this.redis.status}`);
    }
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private logError(error: Error): void {
    // ioredis reports every failed reconnect; one line per distinct error keeps the log readable during an outage.
    const message = errorMessage(error);
    if (message === this.lastErrorLogged) return;
    this.lastErrorLogged = message;
    this.logger.warn(`Redis: ${message}`);
  }
}
