import { Logger } from '@nestjs/common';
import {
  type AnnouncedLayout,
  announceLayout,
  describeLayout,
  forgetLayouts,
  isForgotten,
  LAYOUT_STALE_AFTER_MS,
  type RedisConnection,
  sameLayout,
  type StreamLayout,
} from '@realtime-streams/common';

/**
 * Compares the layout this gateway reads (prefix, shards, key layout) with the ones publishers on the same Redis
 * announce (see the publisher's `StreamLayoutAnnouncer`). Publishers seen lately and none of them writing this
 * gateway's layout: nothing they publish can reach its clients, so `mismatch` says so (health is degraded) and one
 * error is logged, naming both sides. A publisher with this layout among others is no alarm: several applications
 * may share one Redis with different prefixes. No publisher seen (an older version, or none started yet) is none
 * either. Runs with each stream monitor check, in one round trip that also announces this gateway's layout.
 */
export class StreamLayoutCheck {
  private readonly logger = new Logger('RealtimeStreamMonitor');
  /** Why nothing can be delivered, while publishers write only other layouts; undefined otherwise. */
  mismatch?: string;

  constructor(private readonly own: StreamLayout) {}

  async run(redis: RedisConnection, now = Date.now()): Promise<void> {
    const announced = await announceLayout(redis, 'gateway', this.own, { read: true, now });
    this.judge(announced, now);
    const forgotten = announced.filter((entry) => isForgotten(entry, now)).map((entry) => entry.field);
    await forgetLayouts(redis, forgotten);
  }

  /** Sets `mismatch` from the announcements; logs when it appears, changes or clears. */
  judge(announced: readonly AnnouncedLayout[], now: number): void {
    const publishers = announced
      .filter((entry) => entry.role === 'publisher' && now - entry.seenAt <= LAYOUT_STALE_AFTER_MS)
      .map((entry) => entry.layout);
    const mismatch =
      publishers.length > 0 && !publishers.some((layout) => sameLayout(layout, this.own))
        ? this.describe(publishers)
        : undefined;
    if (mismatch === this.mismatch) return;
    if (mismatch) this.logger.error(mismatch);
    else this.logger.log(`Stream layouts agree again: publishers on this Redis write ${describeLayout(this.own)}`);
    this.mismatch = mismatch;
  }

  private describe(publishers: readonly StreamLayout[]): string {
    const written = [...new Set(publishers.map(describeLayout))].sort().join(', ');
    const keysDiffer = publishers.every((layout) => layout.keys !== this.own.keys);
    return (
      `Publishers on this Redis write layout ${written}; this gateway reads ${describeLayout(this.own)}: ` +
      'nothing they publish reaches its clients. Set REALTIME_STREAM_KEY_PREFIX / REALTIME_STREAM_SHARDS alike on ' +
      `both${keysDiffer ? ', and REDIS_CLUSTER_NODES on both or neither (the key layout differs)' : ''}.`
    );
  }
}
