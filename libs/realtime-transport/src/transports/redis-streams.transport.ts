import { Logger } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { RedisWritesRefusedError } from '../errors/redis-writes-refused.error';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import {
  closeRedis,
  createFailFastRedis,
  errorMessage,
  isCluster,
  streamKeyLayoutOf,
  withTimeout,
  type RedisConnection,
} from '@realtime-streams/common';
import type { PartLostListener, RealtimeTransport } from './realtime-transport.interface';
import { appendArguments, defineStreamAppend, type StreamAppender } from './stream-append.script';
import { sequenceKeyOf, StreamKeys } from '@realtime-streams/contracts';
import { ShardAvailability, type ShardState } from './shard-availability';
import { explainWriteError, probeWrites } from './redis-write-probe';
import { StreamLayoutAnnouncer } from './stream-layout.announcer';

type Corkable = { cork?: () => void; uncork?: () => void } | undefined;

/**
 * Appends envelopes to their shard's stream on a connection of its own: one script call per shard of a batch, which
 * numbers the entries (`n`) and trims by time (`MINID ~`) with a length bound as the memory guard (see
 * stream-append.script.ts).
 *
 * The offline queue is off and nothing is resent after a reconnect: while Redis is down a publish fails at once
 * and the fallback chain carries the envelope elsewhere, instead of ioredis buffering it without bound and
 * replaying it (as a duplicate) later. A batch is one pipeline: one write, one round trip.
 *
 * On a Redis Cluster (ioredis Cluster) the shards' keys are tagged to spread over the slots, each shard's script
 * call goes to the master of its slot, and a batch is one write per master (their sockets corked together).
 * Redirections during a resharding are followed by ioredis. A shard whose master fails is down on its own
 * (`ShardAvailability`): its envelopes go to the next transport, the chain replays what it acknowledged lately (a
 * master can die before its replica got the last appends), and the other shards keep flowing.
 *
 * Health is a write, not a PING: a Redis that answers PING but refuses writes (maxmemory reached, a read-only former
 * primary, a failed snapshot, too few replicas) is down for this transport, and its breaker stays open until an
 * append can succeed again (see redis-write-probe.ts).
 */
export class RedisStreamsTransport implements RealtimeTransport {
  readonly name = 'redis-streams' as const;
  readonly acknowledgementsMayBeLost = true;
  readonly keys: StreamKeys;
  private readonly logger = new Logger('RedisStreamsTransport');
  private readonly redis: RedisConnection & StreamAppender;
  /** Cluster only: which shards take appends now. */
  private readonly availability?: ShardAvailability;
  private readonly partLostListeners: PartLostListener[] = [];
  private readonly partAvailableListeners: Array<() => void> = [];
  private readonly maxLen: string;
  private readonly retentionMs: string;
  /** Errors already logged during the current outage (cleared once connected). */
  private readonly loggedErrors = new Set<string>();
  /** Tells gateways on this Redis which layout this publisher writes (they report one that reads another). */
  private readonly layoutAnnouncer: StreamLayoutAnnouncer;

  constructor(
    options: NonNullable<ResolvedRealtimeTransportOptions['redis']>,
    /** Cluster: how long one shard's append may take before that shard counts as down (under the publish timeout). */
    private readonly shardReplyTimeoutMs = 1000,
  ) {
    this.maxLen = String(options.maxLen);
    this.retentionMs = String(options.retentionMs);
    // Fail fast: the breaker, not the connection, decides where envelopes go while Redis is down.
    this.redis = defineStreamAppend(createFailFastRedis(options, 'realtime-publisher'));
    this.keys = new StreamKeys(options.streamKeyPrefix, options.shards, streamKeyLayoutOf(options));
    this.layoutAnnouncer = new StreamLayoutAnnouncer(this.redis, {
      prefix: this.keys.prefix,
      shards: this.keys.shards,
      keys: this.keys.layout,
    });
    if (isCluster(this.redis)) {
      const cluster = this.redis;
      this.availability = new ShardAvailability(
        this.keys.all,
        // A write, routed to whoever owns the shard's slot now: a master that refuses writes keeps its shard down.
        (key) => probeWrites(this.redis, key),
        () => new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve())),
        (shard, error) => this.shardLost(shard, error),
        () => {
          for (const listener of this.partAvailableListeners) listener();
        },
      );
    }
    this.redis.on('error', (error: Error) => this.logError(error));
    this.redis.on('ready', () => {
      this.loggedErrors.clear();
      this.logger.log('Connected to Redis');
    });
  }

  /** The publishing connection, for health checks that want their own look at Redis. */
  get connection(): RedisConnection {
    return this.redis;
  }

  /** Cluster: each shard, up or down with the error; undefined on a single node. */
  shardStates(): ShardState[] | undefined {
    return this.availability?.states();
  }

  onPartLost(listener: PartLostListener): void {
    this.partLostListeners.push(listener);
  }

  /** Cluster: an envelope whose shard is down is refused without a round trip (see RealtimeTransport.accepts). */
  accepts(envelope: OutboundEnvelope): boolean {
    return !this.availability?.isDown(this.keys.shardOfTarget(envelope.targetKey));
  }

  onPartAvailable(listener: () => void): void {
    this.partAvailableListeners.push(listener);
  }

  async start(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (error) {
      // Not fatal: ioredis keeps reconnecting, the breaker routes around Redis meanwhile.
      this.logError(error as Error);
    }
    // Whether or not this connect succeeded: announcements skip while Redis is away and resume after.
    this.layoutAnnouncer.start();
  }

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
    const byShard = this.groupByShard(batch);
    const shards = [...byShard];
    const replies = new Array<Promise<unknown>>(shards.length);
    // Corking the socket turns the batch's commands into one write (one round trip) without ioredis's Pipeline
    // object, which allocates enough per batch to make garbage collection pauses show in the latency tail. On a
    // cluster: one write per master.
    const sockets = this.sockets();
    for (const socket of sockets) socket?.cork?.();
    try {
      for (let s = 0; s < shards.length; s++) {
        const [shard, part] = shards[s];
        if (this.availability?.isDown(shard)) {
          replies[s] = Promise.reject(new Error(`shard ${this.keys.all[shard]} is down`));
          continue;
        }
        const key = this.keys.all[shard];
        const entries: string[] = [];
        for (const i of part) appendArguments(batch[i], entries);
        const reply = this.redis.realtimeAppend(key, sequenceKeyOf(key), this.retentionMs, this.maxLen, ...entries);
        replies[s] = this.availability ? withTimeout(reply, this.shardReplyTimeoutMs, `append to ${key}`) : reply;
      }
    } finally {
      for (const socket of sockets) socket?.uncork?.();
    }
    const results = await Promise.allSettled(replies);
    let failed: number[] | undefined;
    let firstError: unknown;
    for (let s = 0; s < results.length; s++) {
      const result = results[s];
      if (result.status === 'rejected') {
        (failed ??= []).push(...shards[s][1]);
        firstError ??= result.reason;
        this.availability?.markDown(shards[s][0], result.reason);
      }
    }
    if (failed) {
      failed.sort((a, b) => a - b);
      const partial = failed.length === batch.length ? undefined : failed;
      const cause = explainWriteError(firstError);
      const message = cause instanceof RedisWritesRefusedError ? cause.reason : errorMessage(cause);
      throw new TransportPublishError(this.name, message, partial, {
        cause,
        // Some shards still take appends: the transport is up, only these envelopes need another way.
        partsDown: this.availability !== undefined && this.availability.downCount < this.keys.shards,
      });
    }
  }

  /** The sockets a batch is written to: the connection's, or each cluster master's. */
  private sockets(): Corkable[] {
    if (!isCluster(this.redis)) return [this.redis.stream];
    return this.redis.nodes('master').map((node) => node.stream);
  }

  private shardLost(shard: number, error: string): void {
    const key = this.keys.all[shard];
    this.logger.warn(`Shard ${key} is down (${error}): its envelopes go to the next transport until it is back`);
    const owns = (targetKey: string) => this.keys.shardOfTarget(targetKey) === shard;
    for (const listener of this.partLostListeners) listener(owns, `shard ${key}`);
  }

  /** Indexes of the batch's envelopes per shard, in batch order (a room stays in order within its shard). */
  private groupByShard(batch: readonly OutboundEnvelope[]): Map<number, number[]> {
    const byShard = new Map<number, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const shard = this.keys.shardOfTarget(batch[i].targetKey);
      const part = byShard.get(shard);
      if (part) part.push(i);
      else byShard.set(shard, [i]);
    }
    return byShard;
  }

  /**
   * Whether appends succeed now, by the write probe. Single node: one shard's probe (a refusal is the node's, not a
   * key's). Cluster: each shard that is up is probed on its own master; one that fails is down on its own, like
   * after a failed append (its envelopes take the next transport, its own probe brings it back), and the
   * transport is up while some shard takes appends.
   */
  async health(): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new TransportDisconnectedError(this.name, `connection is ${this.redis.status}`);
    const availability = this.availability;
    if (!availability) return probeWrites(this.redis, this.keys.all[0]);
    await Promise.all(
      this.keys.all.map(async (key, shard) => {
        if (availability.isDown(shard)) return;
        try {
          await withTimeout(probeWrites(this.redis, key), this.shardReplyTimeoutMs, `write probe of ${key}`);
        } catch (error) {
          availability.markDown(shard, error);
        }
      }),
    );
    if (availability.downCount < this.keys.shards) return;
    const states = availability.states();
    throw new TransportDisconnectedError(this.name, `every shard is down (${states[0].error})`);
  }

  async close(): Promise<void> {
    this.availability?.close();
    await this.layoutAnnouncer.stop();
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
