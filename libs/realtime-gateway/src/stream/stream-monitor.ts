import { Logger } from '@nestjs/common';
import { closeRedis, createFailFastRedis, errorMessage, withTimeout } from '@realtime/transport';
import type Redis from 'ioredis';
import type { RealtimeGatewayMetrics } from '../metrics/realtime-gateway.metrics';
import { fields, GROUP_PREFIX, heartbeat } from './stream-groups';

export interface StreamMonitorSettings {
  url: string;
  keys: readonly string[];
  group: string;
  intervalMs: number;
  groupMaxIdleMs: number;
  /** Heartbeat key of an instance, by instance id. */
  heartbeatKeyOf: (instanceId: string) => string;
  /** This instance's heartbeat key. */
  heartbeatKey: string;
}

/**
 * Watches the streams from a second, non-blocking connection: lag and pending of this instance's group (metrics
 * and health), entries trimmed before the group read them, and groups of instances gone for longer than
 * `groupMaxIdleMs`, which it removes. Whether an instance is gone is told by its heartbeat key (refreshed here on
 * every check, expiring after `groupMaxIdleMs`): Redis 7.0 lists no consumer for a group that never got an entry,
 * so consumer idle times cannot tell a quiet instance from a dead one.
 */
export class StreamMonitor {
  private readonly logger = new Logger('RealtimeStreamMonitor');
  readonly redis: Redis;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly trimmedSeen = new Map<string, number>();
  /** Lag of this instance's group summed over the shards, at the last check (undefined when unknown). */
  lag?: number;
  pending?: number;
  lastError?: string;

  constructor(
    private readonly settings: StreamMonitorSettings,
    private readonly metrics: RealtimeGatewayMetrics,
  ) {
    this.redis = createFailFastRedis(settings.url, 'realtime-monitor');
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

  /** One round of checks (also run on the interval). */
  async check(): Promise<void> {
    try {
      await heartbeat(this.redis, this.settings.heartbeatKey, this.settings.groupMaxIdleMs);
      let lag = 0;
      let pending = 0;
      let lagKnown = true;
      for (const key of this.settings.keys) {
        const groups = ((await this.redis.xinfo('GROUPS', key)) as unknown[]).map(fields);
        const stream = fields(await this.redis.xinfo('STREAM', key));
        for (const group of groups) {
          const name = String(group.name);
          if (name === this.settings.group) {
            const groupLag = typeof group.lag === 'number' ? group.lag : undefined;
            if (groupLag === undefined) lagKnown = false;
            lag += groupLag ?? 0;
            pending += Number(group.pending ?? 0);
            this.metrics.streamLag.set({ stream: key, group: name }, groupLag ?? -1);
            this.metrics.streamPending.set({ stream: key, group: name }, Number(group.pending ?? 0));
            this.checkTrimming(key, stream, group);
          } else if (name.startsWith(GROUP_PREFIX)) {
            await this.removeIfGone(key, name);
          }
        }
      }
      this.lag = lagKnown ? lag : undefined;
      this.pending = pending;
      this.lastError = undefined;
    } catch (error) {
      // NOGROUP / no such key right after a Redis restart is normal until the consumer recreates them.
      this.lastError = errorMessage(error);
      this.metrics.consumerErrors.inc({ kind: 'monitor' });
    }
  }

  /** Entries removed by MAXLEN that this group never read: added - still in the stream - read by the group. */
  private checkTrimming(key: string, stream: Record<string, unknown>, group: Record<string, unknown>): void {
    const added = Number(stream['entries-added']);
    const length = Number(stream.length);
    // A group that never read anything has no read counter yet.
    const read = group['entries-read'] ?? (group['last-delivered-id'] === '0-0' ? 0 : undefined);
    if (!Number.isFinite(added) || !Number.isFinite(length) || typeof read !== 'number') return;
    const missed = Math.max(0, added - length - read);
    const before = this.trimmedSeen.get(key) ?? 0;
    if (missed > before) {
      this.metrics.trimmedUnread.inc({ stream: key }, missed - before);
      this.logger.error(`${missed - before} entries of ${key} were trimmed before this gateway read them (lost)`);
    }
    this.trimmedSeen.set(key, missed);
  }

  private async removeIfGone(key: string, group: string): Promise<void> {
    const instanceId = group.slice(GROUP_PREFIX.length);
    if ((await this.redis.exists(this.settings.heartbeatKeyOf(instanceId))) === 1) return;
    await this.redis.xgroup('DESTROY', key, group);
    this.logger.log(`Removed consumer group ${group} of ${key}: its gateway has not been seen for ${this.settings.groupMaxIdleMs} ms`);
  }
}
