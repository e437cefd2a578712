import { Logger } from '@nestjs/common';
import { closeRedis, createFailFastRedis, errorMessage, isCluster, withTimeout } from '@realtime-streams/common';
import { sequenceKeyOf } from '@realtime-streams/contracts';
import type { RedisConnectionOptions } from '@realtime-streams/common';
import type { RedisConnection } from '@realtime-streams/common';
import type { StreamMetrics } from './stream.metrics';
import { readCounter } from './group-setup';
import { fields, GROUP_PREFIX, heartbeat } from './stream-groups';
import type { SequencePositions } from './stream-sequences';
import type { StreamLayoutCheck } from './stream-layout.check';

export interface StreamMonitorSettings {
  /** The module's Redis settings: a URL, ioredis options or a client to duplicate (a URL alone in tests). */
  connection: string | RedisConnectionOptions;
  keys: readonly string[];
  /**
   * Interest routing: the shards read now. Lag is checked on those; the groups of gone instances are looked for on
   * a slice of the other shards per check, so a check costs what is read, not the whole layout.
   */
  readKeys?: () => readonly string[];
  group: string;
  intervalMs: number;
  groupMaxIdleMs: number;
  /** Heartbeat key of an instance, by instance id. */
  heartbeatKeyOf: (instanceId: string) => string;
  /** This instance's heartbeat key. */
  heartbeatKey: string;
  /** The last entry number this instance read per shard (the consumer's), for the lag. */
  positions?: SequencePositions;
  /** Compares this gateway's stream layout with the publishers' on every check. */
  layout?: StreamLayoutCheck;
}

/**
 * Watches the streams from a second, non-blocking connection: lag and pending of this instance's group (metrics
 * and health) and groups of instances gone for longer than
 * `groupMaxIdleMs`, which it removes. Whether an instance is gone is told by its heartbeat key (refreshed here on
 * every check, expiring after `groupMaxIdleMs`): Redis 7.0 lists no consumer for a group that never got an entry,
 * so consumer idle times cannot tell a quiet instance from a dead one. With `layout`, every check also compares the
 * stream layout this gateway reads with the ones publishers on this Redis announce (`StreamLayoutCheck`).
 *
 * Lag is the shard's counter (`<stream>:seq`, the number of the last entry appended) minus the number of the last
 * entry this instance read: after a gap it is back to what is really left to read. XINFO's lag is only used for
 * streams without numbered entries: it stays wrong for good once entries were trimmed before the group read them.
 * Missed entries are counted by the consumer, exactly, from the numbers.
 */
/** Shards not read that one check looks at for groups of gone instances (interest routing). */
const SWEEP_SLICE = 32;

export class StreamMonitor {
  private readonly logger = new Logger('RealtimeStreamMonitor');
  readonly redis: RedisConnection;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Lag of this instance's group summed over the shards, at the last check (undefined when unknown). */
  lag?: number;
  pending?: number;
  lastError?: string;
  /** Shards the last check could not read, with the error (a cluster node gone, `CLUSTERDOWN`...). */
  shardErrors = new Map<string, string>();

  /** Publishers on this Redis write only other stream layouts than this gateway reads: why, else undefined. */
  get layoutMismatch(): string | undefined {
    return this.settings.layout?.mismatch;
  }

  constructor(
    private readonly settings: StreamMonitorSettings,
    private readonly metrics: StreamMetrics,
  ) {
    this.redis = createFailFastRedis(settings.connection, 'realtime-monitor');
    this.redis.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
  }

  /** Connects and beats once before the consumer creates its group, so no other instance takes it for gone. */
  async start(): Promise<void> {
    await this.redis.connect().catch((error: unknown) => (this.lastError = errorMessage(error)));
    await heartbeat(this.redis, this.settings.heartbeatKey, this.settings.groupMaxIdleMs).catch(() => undefined);
    this.timer = setInterval(() => {
      this.running ??= this.check().finally(() => (this.running = undefined));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await closeRedis(this.redis);
  }

  /** PING with a timeout; rejects when Redis is unreachable. */
  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(this.redis.ping(), timeoutMs, 'Redis PING');
  }

  /**
   * One round of checks (also run on the interval). Each shard is checked on its own: on a cluster one master can be
   * gone (or its slots down) while the others answer, and `shardErrors` says which shards could not be checked.
   */
  async check(): Promise<void> {
    try {
      await heartbeat(this.redis, this.settings.heartbeatKey, this.settings.groupMaxIdleMs);
    } catch (error) {
      this.lastError = errorMessage(error);
      this.metrics.consumerError('monitor');
      return;
    }
    let lag = 0;
    let pending = 0;
    let lagKnown = true;
    const errors = new Map<string, string>();
    // A failed layout check leaves the last verdict standing: the next check tries again.
    const layout = this.settings.layout
      ?.run(this.redis)
      .catch((error: unknown) => this.logger.debug(`Stream layout check: ${errorMessage(error)}`));
    const routedLag = this.settings.readKeys ? this.routedLag(errors) : undefined;
    await Promise.all(
      this.keysToCheck().map(async (key) => {
        try {
          const shard = await this.checkShard(key);
          if (shard.lag === undefined) lagKnown = false;
          lag += shard.lag ?? 0;
          pending += shard.pending;
        } catch (error) {
          // A shard this instance does not read may not exist yet (interest routing): nothing to look at there.
          if (this.settings.readKeys && /no such key/i.test(errorMessage(error))) return;
          // NOGROUP / no such key right after a Redis restart is normal until the consumer recreates them.
          errors.set(key, errorMessage(error));
          this.metrics.consumerError('monitor');
        }
      }),
    );
    await layout;
    if (routedLag) {
      const routed = await routedLag;
      if (routed === undefined) lagKnown = false;
      lag = routed ?? 0;
    }
    this.shardErrors = errors;
    this.lag = lagKnown && errors.size === 0 ? lag : undefined;
    this.pending = errors.size === 0 ? pending : undefined;
    const [first] = errors;
    this.lastError = first ? `${first[0]}: ${first[1]}` : undefined;
  }

  /** Where the next slice of the layout's shards starts (interest routing). */
  private sweepFrom = 0;

  /**
   * Every shard; with interest routing, a slice of them per check, for the groups of gone instances only (the lag of
   * the shards read comes from their counters, see `routedLag`).
   */
  private keysToCheck(): readonly string[] {
    const { keys, readKeys } = this.settings;
    if (!readKeys) return keys;
    const slice = Math.min(keys.length, SWEEP_SLICE);
    const checked: string[] = [];
    for (let i = 0; i < slice; i++) checked.push(keys[(this.sweepFrom + i) % keys.length]);
    this.sweepFrom = (this.sweepFrom + slice) % keys.length;
    return checked;
  }

  /**
   * Interest routing: the lag of every shard read, from its counter and the last number read, counters fetched in
   * one pipeline (one command per shard on a cluster, where a pipeline cannot span slots). Routed reads keep nothing
   * pending (`NOACK`), so there is no `XINFO` per shard: a check costs one round trip, not two per shard read, which
   * at hundreds of shards read was most of an idle gateway's CPU. Undefined when a lag is unknown.
   */
  private async routedLag(errors: Map<string, string>): Promise<number | undefined> {
    const keys = this.settings.readKeys!();
    if (keys.length === 0) return 0;
    const counters = await this.counters(keys).catch((error: unknown) => {
      for (const key of keys) errors.set(key, errorMessage(error));
      this.metrics.consumerError('monitor');
      return undefined;
    });
    if (!counters) return undefined;
    let lag = 0;
    let known = true;
    keys.forEach((key, i) => {
      const last = this.settings.positions?.lastSequence(key);
      // No counter: nothing was ever appended to the shard.
      const counter = counters[i] ?? 0;
      const shardLag = last === undefined ? undefined : Math.max(0, counter - last);
      this.metrics.groupChecked(key, this.settings.group, shardLag ?? -1, 0);
      if (shardLag === undefined) known = false;
      lag += shardLag ?? 0;
    });
    return known ? lag : undefined;
  }

  private async counters(keys: readonly string[]): Promise<Array<number | undefined>> {
    if (isCluster(this.redis)) return Promise.all(keys.map((key) => readCounter(this.redis, key)));
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.get(sequenceKeyOf(key));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, value]) => {
      if (error) throw error;
      const n = Number(value);
      return value === null || !Number.isSafeInteger(n) ? undefined : n;
    });
  }

  private async checkShard(key: string): Promise<{ lag?: number; pending: number }> {
    // Routed: a swept shard is looked at for gone instances' groups only (its lag, if read, is `routedLag`'s).
    const routed = this.settings.readKeys !== undefined;
    const groups = ((await this.redis.xinfo('GROUPS', key)) as unknown[]).map(fields);
    // A shard where this instance's group is not (yet) listed adds nothing, as before the group exists.
    let result: { lag?: number; pending: number } = { lag: 0, pending: 0 };
    for (const group of groups) {
      const name = String(group.name);
      if (name === this.settings.group) {
        if (routed) continue;
        const groupLag = await this.lagOf(key, group);
        result = { lag: groupLag, pending: Number(group.pending ?? 0) };
        this.metrics.groupChecked(key, name, groupLag ?? -1, result.pending);
      } else if (name.startsWith(GROUP_PREFIX)) {
        await this.removeIfGone(key, name);
      }
    }
    return result;
  }

  /** Entries of `key` this instance has still to read: by the numbers when both ends are known, else XINFO's. */
  private async lagOf(key: string, group: Record<string, unknown>): Promise<number | undefined> {
    const last = this.settings.positions?.lastSequence(key);
    const counter = last === undefined ? undefined : await readCounter(this.redis, key);
    // Below 0 only for a moment: Redis restarted and the consumer has not noticed yet.
    if (last !== undefined && counter !== undefined) return Math.max(0, counter - last);
    return typeof group.lag === 'number' ? group.lag : undefined;
  }

  private async removeIfGone(key: string, group: string): Promise<void> {
    const instanceId = group.slice(GROUP_PREFIX.length);
    if ((await this.redis.exists(this.settings.heartbeatKeyOf(instanceId))) === 1) return;
    await this.redis.xgroup('DESTROY', key, group);
    this.logger.log(
      `Removed consumer group ${group} of ${key}: its gateway has not been seen for ${this.settings.groupMaxIdleMs} ms`,
    );
  }
}
