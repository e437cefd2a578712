import { isClusterConfig } from '@realtime-streams/common';
import type { DeliveryService } from '../delivery/delivery.service';
import type { InboundEnvelopeReader } from '../delivery/inbound-envelope';
import type { StreamPositions } from '../hub/session/stream-positions';
import type { StreamMetrics } from './stream.metrics';
import type { ConsumerHealth } from './consumer-status';
import { GapReporter, MISSED_ENTRIES_REASON, type MissedEntriesListener } from './gap-reporter';
import { StreamReader, type StreamConsumerSettings } from './stream-reader';
import { StreamSequences } from './stream-sequences';

export { MISSED_ENTRIES_REASON, type MissedEntriesListener, type StreamConsumerSettings };

/** One shard's reader as health reports it. */
export interface ShardConsumerHealth extends ConsumerHealth {
  stream: string;
}

/**
 * Reads this instance's consumer group on every shard and delivers each entry (the loop, its gap check and its
 * fault handling are `StreamReader`'s).
 *
 * On a single node, one reader reads every shard with one blocking `XREADGROUP` on one connection. On a Redis
 * Cluster a multi-key `XREADGROUP` is refused unless all its keys share a slot (`CROSSSLOT`), and the shards are
 * spread over the slots on purpose, so each shard gets a reader of its own, with its own connection to the master
 * that serves the shard's slot (ioredis Cluster routes it there and follows it through migrations and failovers).
 * A shard whose master is gone stops only its own reader. The entry numbers seen (`sequences`) are shared.
 */
export class StreamConsumer {
  /** The last entry number read on each shard: the gap check, and the monitor's lag. */
  readonly sequences = new StreamSequences();
  private readonly readers: StreamReader[];

  constructor(
    settings: StreamConsumerSettings,
    reader: InboundEnvelopeReader,
    delivery: DeliveryService,
    metrics: StreamMetrics,
    onMissed: MissedEntriesListener = () => 0,
    /** Where this instance stands on each shard, by entry id (stateful sessions record it). */
    positions?: StreamPositions,
  ) {
    const gaps = new GapReporter(settings.group, metrics, onMissed);
    const perShard = typeof settings.connection !== 'string' && isClusterConfig(settings.connection);
    const parts = perShard ? settings.keys.map((key) => [key]) : [settings.keys];
    this.readers = parts.map(
      (keys) => new StreamReader({ ...settings, keys }, reader, delivery, metrics, this.sequences, gaps, positions),
    );
  }

  /** Entries delivered since start, over every shard. */
  get delivered(): number {
    return this.readers.reduce((sum, r) => sum + r.delivered, 0);
  }

  get alive(): boolean {
    return this.readers.every((r) => r.alive);
  }

  /** Failing when any shard's reader is, with that reader's error (prefixed with its stream on a cluster). */
  health(now = Date.now()): ConsumerHealth {
    const shards = this.shardHealth(now);
    const failing = shards.filter((s) => s.state !== 'running');
    const reads = shards.map((s) => s.lastReadMsAgo).filter((ms): ms is number => ms !== null);
    const lastReadMsAgo = reads.length === shards.length && reads.length > 0 ? Math.max(...reads) : null;
    if (failing.length === 0) return { state: 'running', lastReadMsAgo };
    const [first] = failing;
    if (first.state === 'stopped') return { state: 'stopped', lastReadMsAgo };
    const where = this.readers.length > 1 ? `${first.stream}: ` : '';
    const more = failing.length > 1 ? ` (and ${failing.length - 1} more shards)` : '';
    return { state: 'failing', lastError: `${where}${first.lastError}${more}`, lastReadMsAgo };
  }

  /** Each reader's health; one entry per shard on a cluster, one for all shards on a single node. */
  shardHealth(now = Date.now()): ShardConsumerHealth[] {
    return this.readers.map((r) => ({ stream: r.keys.join(','), ...r.health(now) }));
  }

  /** Starts every reader; resolves once each has its groups (or failed its first attempt). */
  async start(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.stop()));
  }
}
