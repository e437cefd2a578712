import { Logger } from '@nestjs/common';
import {
  closeRedis,
  createFailFastRedis,
  errorMessage,
  isClusterConfig,
  withTimeout,
  type RedisConnection,
} from '@realtime-streams/common';
import type { DeliveryService } from '../delivery/delivery.service';
import type { InboundEnvelopeReader } from '../delivery/inbound-envelope';
import type { StreamPositions } from '../hub/session/stream-positions';
import type { StreamMetrics } from './stream.metrics';
import type { ConsumerHealth } from './consumer-status';
import { GapReporter, MISSED_ENTRIES_REASON, type MissedEntriesListener } from './gap-reporter';
import { startGroupAt, startGroupAtEnd } from './group-setup';
import type { ShardReading } from './shard-interest';
import { connectionErrorOf, explained, StreamReader, type StreamConsumerSettings } from './stream-reader';
import { entryField, positiveIntegerOf, StreamSequences } from './stream-sequences';

/** How long a group placement, removal or wake may take before it counts as failed. */
const CONTROL_TIMEOUT_MS = 3000;
/** What a start placed by time reads before that time, for the clocks of two hosts (see `startReading`). */
const CLOCK_MARGIN_MS = 5000;
/** How often a routed consumer checks that Redis takes its reads (see `probe`). */
const PROBE_INTERVAL_MS = 2000;
/**
 * Entries read back when a shard's reading starts, for their targets' order: a room active lately has its last
 * number among them, so a member joining it gets the next message at once, not after `ordering.firstHoldMs`.
 */
const ORDER_TAIL = 100;

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
 *
 * With interest routing (`routed`) no shard is read until `startReading` (see ShardInterest): on a single node the
 * one reader's set of shards grows and shrinks, its blocked read woken by `CLIENT UNBLOCK` from a control
 * connection; on a cluster a shard's reader is created when it starts and stopped when it stops. The control
 * connection places this instance's group at a shard's end when its reading starts, and removes it when it stops.
 */
export class StreamConsumer implements ShardReading {
  private readonly logger = new Logger('RealtimeStreamConsumer');
  /** The last entry number read on each shard: the gap check, and the monitor's lag. */
  readonly sequences = new StreamSequences();
  private readonly readers: StreamReader[] = [];
  private readonly perShard: boolean;
  private readonly gaps: GapReporter;
  /** Routed only: group placement and removal, and waking the single node's reader. */
  private readonly control?: RedisConnection;
  /** Delivered by readers stopped since (a cluster shard no longer read). */
  private deliveredBefore = 0;
  /** The connect of the control connection under way, shared by its callers. */
  private controlReady?: Promise<void>;
  /** Routed: why the last probe of Redis failed (undefined: it answered), see `probe`. */
  private probeError?: string;
  private prober?: NodeJS.Timeout;
  private started = false;

  constructor(
    private readonly settings: StreamConsumerSettings,
    private readonly reader: InboundEnvelopeReader,
    private readonly delivery: DeliveryService,
    private readonly metrics: StreamMetrics,
    onMissed: MissedEntriesListener = () => 0,
    /** Where this instance stands on each shard, by entry id (stateful sessions record it). */
    private readonly positions?: StreamPositions,
    /** Interest routing: read only the shards started with `startReading`. */
    private readonly routed = false,
  ) {
    this.gaps = new GapReporter(settings.group, metrics, onMissed);
    this.perShard = typeof settings.connection !== 'string' && isClusterConfig(settings.connection);
    if (routed) {
      this.control = createFailFastRedis(settings.connection, `realtime-routing:${settings.consumer}`);
      this.control.on('error', (error: Error) => {
        this.probeError = connectionErrorOf(error);
        this.logger.debug(`Redis (routing): ${this.probeError}`);
      });
      if (!this.perShard) this.readers.push(this.newReader([], (id) => this.unblock(id)));
      return;
    }
    const parts = this.perShard ? settings.keys.map((key) => [key]) : [settings.keys];
    for (const keys of parts) this.readers.push(this.newReader(keys));
  }

  /** Entries delivered since start, over every shard. */
  get delivered(): number {
    return this.readers.reduce((sum, r) => sum + r.delivered, this.deliveredBefore);
  }

  /** The shards read now. */
  get readKeys(): string[] {
    return this.readers.flatMap((r) => r.keys);
  }

  /**
   * Starts reading `key` at its end (see ShardReading): this instance's group is placed there (any group of an
   * earlier life of this instance removed first, pending entries and all), the gap check and the position start
   * there, then the reader covers it.
   */
  async startReading(key: string, since?: number): Promise<void> {
    if (!this.control) throw new Error('startReading needs interest routing');
    await this.connectControl();
    if (since !== undefined) {
      // Less a margin for the clocks of this host and Redis's (entry ids are Redis's milliseconds): a few entries
      // from just before are read too, never one after skipped.
      const at = `${Math.max(0, since - CLOCK_MARGIN_MS)}-0`;
      const placed = startGroupAt(this.control, key, this.settings.group, this.sequences, at);
      return this.cover(key, await withTimeout(placed, CONTROL_TIMEOUT_MS, 'XGROUP CREATE'));
    }
    const { from, before } = await withTimeout(
      startGroupAtEnd(this.control, key, this.settings.group, this.sequences, ORDER_TAIL),
      CONTROL_TIMEOUT_MS,
      'XGROUP CREATE',
    );
    // The targets of the entries just before: their order moves past what they had, so the next entry of each goes
    // out at once instead of waiting for an earlier one this gateway will never read (see TargetOrder).
    for (const [, fields] of before) {
      const target = entryField(fields, 't');
      const seq = positiveIntegerOf(entryField(fields, 'q'));
      if (target !== undefined && seq !== undefined) this.delivery.passed(target, seq);
    }
    return this.cover(key, from);
  }

  /** Positions `key` at `from` and has a reader cover it. */
  private async cover(key: string, from: string): Promise<void> {
    this.positions?.reading(key, from);
    if (!this.perShard) return this.readers[0].add(key);
    const reader = this.newReader([key]);
    this.readers.push(reader);
    if (this.started) await reader.start();
  }

  /** Stops reading `key` and removes this instance's group from it (see ShardReading). */
  async stopReading(key: string): Promise<void> {
    if (!this.control) throw new Error('stopReading needs interest routing');
    if (this.perShard) {
      const index = this.readers.findIndex((r) => r.keys[0] === key);
      if (index >= 0) {
        const [reader] = this.readers.splice(index, 1);
        await reader.stop();
        this.deliveredBefore += reader.delivered;
      }
    } else await this.readers[0].remove(key);
    this.positions?.reading(key, undefined);
    this.sequences.forget(key);
    this.metrics.groupForgotten(key, this.settings.group);
    await this.connectControl();
    await withTimeout(this.control.xgroup('DESTROY', key, this.settings.group), CONTROL_TIMEOUT_MS, 'XGROUP DESTROY');
  }

  private newReader(keys: readonly string[], waker?: (clientId: number) => Promise<boolean>): StreamReader {
    const { reader, delivery, metrics, sequences, gaps, positions } = this;
    // Routed: nothing pending is ever read again (see StreamConsumerSettings.noAck).
    const settings = { ...this.settings, keys, noAck: this.routed };
    return new StreamReader(settings, reader, delivery, metrics, sequences, gaps, positions, waker);
  }

  private async unblock(clientId: number): Promise<boolean> {
    await this.connectControl();
    const unblocked = await withTimeout(this.control!.client('UNBLOCK', clientId), CONTROL_TIMEOUT_MS, 'UNBLOCK');
    return Number(unblocked) === 1;
  }

  /**
   * The control connection, connected: shards start together when the first clients arrive, and a command sent
   * while the connection is still being made fails at once (no offline queue), so every caller waits for the one
   * connect under way.
   */
  private connectControl(): Promise<void> {
    const control = this.control!;
    if (control.status === 'ready') return Promise.resolve();
    this.controlReady ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`Redis connection is ${control.status}`)), CONTROL_TIMEOUT_MS);
      const onReady = () => done();
      const done = (error?: Error) => {
        clearTimeout(timer);
        control.off('ready', onReady);
        if (error) reject(error);
        else resolve();
      };
      control.once('ready', onReady);
      if (control.status === 'wait' || control.status === 'end') control.connect().catch(() => undefined);
    }).finally(() => (this.controlReady = undefined));
    return this.controlReady;
  }

  get alive(): boolean {
    return this.started && this.readers.every((r) => r.alive);
  }

  /**
   * Failing when any shard's reader is, with that reader's error (prefixed with its stream on a cluster); routed, also
   * while the last probe failed (a gateway reading no shard yet still shows Redis refusing it, see `probe`).
   */
  health(now = Date.now()): ConsumerHealth {
    const shards = this.shardHealth(now);
    if (this.started && this.probeError !== undefined) {
      const reads = shards.map((s) => s.lastReadMsAgo).filter((ms): ms is number => ms !== null);
      return { state: 'failing', lastError: this.probeError, lastReadMsAgo: reads.length ? Math.max(...reads) : null };
    }
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
    this.started = true;
    if (this.control) {
      // Routed: nothing may be read for a while, so Redis is probed, once before start-up completes, then on and on.
      await this.probe();
      this.prober = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
      this.prober.unref();
    }
    await Promise.all(this.readers.map((r) => r.start()));
  }

  /**
   * Routed only: checks that Redis takes this gateway's reads before any client needs them. On a single node one
   * `EXISTS` over every shard key (refused by a cluster node with `CROSSSLOT` or `MOVED`: the gateway was given one
   * node of a cluster, said so); on a cluster a `PING` (`NOAUTH`, a connection refused). A failure shows in health
   * until a probe succeeds.
   */
  private async probe(): Promise<void> {
    try {
      await this.connectControl();
      const control = this.control!;
      const probing: Promise<unknown> = this.perShard ? control.ping() : control.exists(...this.settings.keys);
      await withTimeout(probing, CONTROL_TIMEOUT_MS, this.perShard ? 'PING' : 'EXISTS');
      this.probeError = undefined;
    } catch (error) {
      this.probeError = errorMessage(explained(error, this.control!));
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.prober);
    await Promise.all(this.readers.map((r) => r.stop()));
    if (this.control) await closeRedis(this.control).catch((error: unknown) => this.logger.debug(errorMessage(error)));
  }
}
