import { Logger } from '@nestjs/common';
import {
  closeRedis,
  createFailFastRedis,
  errorMessage,
  isCluster,
  TimeoutError,
  withTimeout,
} from '@realtime-streams/common';
import type { RedisConnection, RedisConnectionOptions } from '@realtime-streams/common';
import type { DeliveryService } from '../delivery/delivery.service';
import type { InboundEnvelopeReader } from '../delivery/inbound-envelope';
import type { StreamMetrics } from './stream.metrics';
import { ConsumerStatus, type ConsumerHealth } from './consumer-status';
import type { GapReporter } from './gap-reporter';
import { ensureGroup } from './group-setup';
import { heartbeat, isNoGroupError } from './stream-groups';
import { entryField, positiveIntegerOf, sequenceOf, type StreamSequences } from './stream-sequences';
import type { StreamPositions } from '../hub/session/stream-positions';

type Entry = [id: string, fields: string[] | null];
type ReadReply = Array<[key: string, entries: Entry[]]> | null;

export interface StreamConsumerSettings {
  /** The module's Redis settings: a URL, ioredis options or a client to duplicate (a URL alone in tests). */
  connection: string | RedisConnectionOptions;
  /** This instance's heartbeat key and its time to live (see StreamMonitor). */
  heartbeatKey: string;
  heartbeatTtlMs: number;
  keys: readonly string[];
  group: string;
  consumer: string;
  blockMs: number;
  readCount: number;
  /**
   * Read with `NOACK`: entries are not kept pending, so no XACK follows a read (one command per read instead of
   * two). Interest routing reads this way: a shard's group is placed anew at every start, so what a crash left
   * pending would never be read again anyway (a resumed session replays from the stream, not from pending entries).
   */
  noAck?: boolean;
}

const MAX_BACKOFF_MS = 5000;

/** The error itself, or the node error behind a Cluster's "Failed to refresh slots cache". */
export function connectionErrorOf(error: Error): string {
  const last = (error as Error & { lastNodeError?: Error }).lastNodeError;
  return last ? `${error.message} (${last.message})` : error.message;
}

/** A redirection on a single-node connection means Redis is a cluster: say what to set. */
export function explained(error: unknown, redis: RedisConnection): unknown {
  const message = errorMessage(error);
  if (isCluster(redis) || !/^(MOVED|ASK|CLUSTERDOWN|CROSSSLOT)\b/.test(message)) return error;
  return new Error(`${message} (this Redis is a cluster node: give the nodes with REDIS_CLUSTER_NODES)`);
}
/** How long past BLOCK a read (or any other command) may take before the connection counts as half-dead. */
const READ_GRACE_MS = 3000;

const DONE: Promise<unknown> = Promise.resolve();
/** How often a reader checks that its read in flight has not overrun its deadline. */
const WATCH_INTERVAL_MS = 500;

/** Wakes a reader's blocked read (`CLIENT UNBLOCK <id>` from another connection to its node); true when it did. */
export type ReadWaker = (clientId: number) => Promise<boolean>;

/**
 * Reads this instance's consumer group on its shards (`keys`) with blocking `XREADGROUP`, on a connection of its
 * own, and delivers each entry (see `StreamConsumer`, which runs one reader on a single node, one per shard on a
 * cluster). On start it first re-reads its own pending entries (delivered before a crash, never
 * acknowledged), then new ones. Acknowledgements go out with the next read, in the same write.
 *
 * Gaps: entries are numbered per shard (`n`); a jump from a to b means exactly b-a-1 entries this instance never
 * read (trimmed before it got to them, or lost). They are counted, the range is logged, and every connection is
 * closed with a reconnectable close message before anything after the gap is delivered, so clients re-fetch from
 * the last message they saw. Entries without a number are delivered unchecked.
 *
 * Faults: the group gone (`NOGROUP`: Redis restarted empty, or another instance removed it) -> recreated where this
 * instance stood, or the loss reported; a read that outlives BLOCK by far -> the connection is replaced; any other
 * error -> exponential back-off, never a tight loop. Health (`health()`) reports failing from the last error until
 * a read succeeds, and as soon as a read overruns BLOCK + 1 s. A bad entry (not an envelope, or past the envelope
 * bounds: an oversized one is refused by its length, unparsed) is counted, logged without its payload and
 * acknowledged: it never stops the loop.
 *
 * Interest routing changes the shards read while the loop runs (`add`, `remove`): a blocked read is woken so the
 * next one covers the new set at once, and with no shard at all the loop waits for one instead of reading.
 */
export class StreamReader {
  private readonly logger = new Logger('RealtimeStreamConsumer');
  private readonly redis: RedisConnection;
  private running = false;
  private loop?: Promise<void>;
  private blocked = false;
  private readonly status: ConsumerStatus;
  delivered = 0;
  /** The connection's last error while it is not ready, for health. */
  private connectionError?: string;
  /** Current back-off after errors; back to 0 after a successful read. */
  private backoffMs = 0;
  /** Settles once the groups exist, or the first attempt failed: what `start()` waits for. */
  private settleStart?: () => void;
  /** The shards read now; changed by `add` and `remove`. */
  private current: string[];
  /** Bumped by every change of `current`; the read in flight was sent with `readVersion`. */
  private version = 0;
  private readVersion = -1;
  /** The reader connection's id at Redis, for waking its blocked read. */
  private clientId?: number;
  /** Removals waiting for a read without their shard (and for the acknowledgements of the last one with it). */
  private removals: Array<{ version: number; done: () => void }> = [];
  /** Resolves the wait of a loop with no shard to read. */
  private changed?: () => void;
  /** When the read in flight counts as overrun; `overran` once the watch cut its connection for it. */
  private readDeadline?: number;
  private overran = false;
  private watchdog?: NodeJS.Timeout;

  constructor(
    private readonly settings: StreamConsumerSettings,
    private readonly reader: InboundEnvelopeReader,
    private readonly delivery: DeliveryService,
    private readonly metrics: StreamMetrics,
    /** The last entry number read on each shard: the gap check, and the monitor's lag (shared by the readers). */
    private readonly sequences: StreamSequences,
    private readonly gaps: GapReporter,
    /** Where this instance stands on each shard, by entry id (stateful sessions record it). */
    private readonly positions?: StreamPositions,
    /** Wakes this reader's blocked read when its shards change (interest routing on a single node). */
    private readonly waker?: ReadWaker,
  ) {
    this.current = [...settings.keys];
    this.status = new ConsumerStatus(settings.blockMs);
    this.redis = createFailFastRedis(
      settings.connection,
      `realtime-consumer:${settings.consumer}${settings.keys.length === 1 ? `:${settings.keys[0]}` : ''}`,
    );
    this.redis.on('error', (error: Error) => {
      this.connectionError = connectionErrorOf(error);
      this.logger.debug(`Redis: ${this.connectionError}`);
    });
    this.redis.on('ready', () => (this.connectionError = undefined));
  }

  get alive(): boolean {
    return this.running;
  }

  get keys(): readonly string[] {
    return this.current;
  }

  /**
   * Reads `key` from the next read on (its group is placed already: see StreamConsumer.startReading); a read blocked
   * now is woken so it does not wait BLOCK ms before covering it.
   */
  add(key: string): void {
    if (this.current.includes(key)) return;
    this.current = [...this.current, key];
    this.changedNow();
  }

  /** Stops reading `key`; resolves once a read without it was sent and what was read from it is acknowledged. */
  remove(key: string): Promise<void> {
    if (!this.current.includes(key)) return Promise.resolve();
    this.current = this.current.filter((k) => k !== key);
    const removed = new Promise<void>((done) => this.removals.push({ version: this.version + 1, done }));
    this.changedNow();
    return removed;
  }

  private changedNow(): void {
    this.version++;
    this.changed?.();
    void this.wake();
  }

  /**
   * Wakes the blocked read so the next one covers the new set. The read may have been sent but not reached Redis
   * yet (nothing to unblock then): tried again shortly, until the read in flight is one sent after the change.
   */
  private async wake(): Promise<void> {
    if (!this.waker) return;
    for (let attempt = 0; attempt < 100 && this.running; attempt++) {
      if (!this.blocked || this.readVersion >= this.version || this.clientId === undefined) return;
      if (await this.waker(this.clientId).catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Removals whose read without their shard is out (`upTo`), or all of them (the loop stopped or failed). */
  private settleRemovals(upTo = Infinity): void {
    if (this.removals.length === 0) return;
    const done = this.removals.filter((r) => r.version <= upTo);
    this.removals = this.removals.filter((r) => r.version > upTo);
    for (const removal of done) removal.done();
  }

  /** Computed now: failing from the last error until a read succeeds, or while a read overruns BLOCK + grace. */
  health(now = Date.now()): ConsumerHealth {
    return this.status.health(this.running, now);
  }

  /**
   * Starts the loop; resolves once this instance's groups exist (or the first attempt failed: start-up never waits
   * for Redis). A group created at `$` skips what came before it, so the application should not report itself
   * started until then, or events published right after start-up would be skipped.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.status.started();
    this.watchdog = setInterval(() => this.watch(), WATCH_INTERVAL_MS);
    this.watchdog.unref();
    const started = new Promise<void>((resolve) => (this.settleStart = resolve));
    this.loop = this.run();
    return started;
  }

  /** Stops reading; what is in hand is delivered and acknowledged first. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.watchdog);
    this.changed?.();
    // A blocked read holds nothing yet: cut it short instead of waiting BLOCK ms.
    if (this.blocked) this.redis.disconnect();
    await this.loop;
    this.settleRemovals();
    await closeRedis(this.redis);
  }

  private async run(): Promise<void> {
    let createdOnce = false;
    while (this.running) {
      try {
        await this.connect();
        if (this.waker) this.clientId = Number(await withTimeout(this.redis.client('ID'), READ_GRACE_MS, 'CLIENT ID'));
        // Alive before the group exists, or another instance could remove it as the group of a gone gateway.
        await withTimeout(
          heartbeat(this.redis, this.settings.heartbeatKey, this.settings.heartbeatTtlMs),
          READ_GRACE_MS,
          'SET heartbeat',
        );
        await withTimeout(this.ensureGroups(createdOnce), READ_GRACE_MS, 'XGROUP CREATE');
        createdOnce = true;
        await withTimeout(this.placePositions(), READ_GRACE_MS, 'XINFO GROUPS');
        this.settleStart?.();
        await this.drainOwnPending();
        await this.readNew();
      } catch (error) {
        this.settleStart?.();
        // Nothing read is in hand any more: what was not acknowledged stays pending, of no use to a removed shard.
        this.settleRemovals();
        if (!this.running) break;
        this.status.failed(explained(error, this.redis));
        // The next turn recreates the group (ensureGroups after a failure checks what is left).
        if (isNoGroupError(error)) continue;
        const kind = error instanceof TimeoutError ? 'timeout' : 'redis';
        this.metrics.consumerError(kind);
        // A command that never answers: the connection is half-dead (Redis frozen, a dead peer); replace it.
        if (kind === 'timeout' && this.redis.status === 'ready') this.redis.disconnect(true);
        // The first failure of an outage at warn, the retries at debug: the metric counts them all.
        const message = `Stream consumer: ${errorMessage(error)}; retrying with back-off up to ${MAX_BACKOFF_MS} ms`;
        if (this.backoffMs === 0) this.logger.warn(message);
        else this.logger.debug(message);
        this.backoffMs = Math.min(this.backoffMs === 0 ? 100 : this.backoffMs * 2, MAX_BACKOFF_MS);
        await this.idle(this.backoffMs);
      }
    }
  }

  /** Every shard's group, and where this instance stands on it; after a failure, recreated if it is gone. */
  /** The last read returned less than a full batch on every shard: nothing was waiting for this instance. */
  private caughtUp = true;

  private async ensureGroups(recovering: boolean): Promise<void> {
    const lost: string[] = [];
    for (const key of this.current) {
      const setup = await ensureGroup(this.redis, key, this.settings.group, this.sequences, recovering);
      if (setup === 'lost') lost.push(key);
      else this.gaps.groupSetUp(key, setup);
    }
    if (lost.length === 0) return;
    // Caught up when Redis went (the last read found less than a full batch, so the next one was blocked waiting):
    // whatever Redis appended after it and lost is what the publisher replays (it resends what Redis acknowledged
    // in its replay window, same ids), so clients keep their live stream. Behind: entries are gone, clients re-fetch.
    this.gaps.lostStreams(lost, !this.caughtUp);
  }

  /** Shards where no entry was read yet: the group's last delivered id is where this instance stands. */
  private async placePositions(): Promise<void> {
    if (!this.positions) return;
    for (const key of this.current) {
      if (this.positions.has(key)) continue;
      const groups = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
      for (const fields of groups) {
        const info = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
        if (info.get('name') === this.settings.group)
          this.positions.advance(key, String(info.get('last-delivered-id')));
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.redis.status === 'ready') return;
    if (this.redis.status === 'wait' || this.redis.status === 'end') {
      await this.redis.connect();
      return;
    }
    // Reconnecting: wait for ioredis, a little at a time, so stop() is honoured.
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        // Why it is not connected (NOAUTH, ECONNREFUSED...) says more than the state it is in.
        const why = this.connectionError ? `: ${this.connectionError}` : '';
        reject(new Error(`Redis connection is ${this.redis.status}${why}`));
      }, 1000);
      this.redis.once('ready', onReady);
    });
  }

  /** Entries delivered to this consumer before and never acknowledged (a crash between read and ack). */
  private async drainOwnPending(): Promise<void> {
    for (const key of this.current) {
      let after = '0';
      while (this.running) {
        const reply = await this.read(this.readArgs([key], after, undefined), undefined);
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        await this.handle(reply, false);
        after = entries[entries.length - 1][0];
      }
    }
  }

  private async readNew(): Promise<void> {
    let acks: Promise<unknown> | undefined;
    let args: Array<string | number> = [];
    let built = -1;
    while (this.running) {
      if (this.current.length === 0) {
        await acks;
        acks = undefined;
        this.settleRemovals();
        this.status.idle();
        await new Promise<void>((resolve) => (this.changed = resolve));
        this.changed = undefined;
        continue;
      }
      // Built again only when the shards changed: a read costs no allocation of its own.
      const version = this.version;
      if (built !== version) {
        args = this.readArgs(this.current, '>', this.settings.blockMs);
        built = version;
      }
      const reading = this.read(args, this.settings.blockMs, version);
      // The acknowledgements of the previous batch were sent just before this read, in the same write.
      await acks;
      this.settleRemovals(version);
      const reply = await reading;
      this.backoffMs = 0;
      this.caughtUp = !reply || reply.every(([, entries]) => entries.length < this.settings.readCount);
      acks = this.handle(reply, true);
    }
    await acks;
  }

  /** `XREADGROUP` arguments reading `keys` after `from` (`>`: new entries; an id: own pending entries after it). */
  private readArgs(keys: readonly string[], from: string, blockMs: number | undefined): Array<string | number> {
    const args: Array<string | number> = ['GROUP', this.settings.group, this.settings.consumer];
    args.push('COUNT', this.settings.readCount);
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    if (this.settings.noAck) args.push('NOACK');
    args.push('STREAMS', ...keys, ...keys.map(() => from));
    return args;
  }

  /**
   * Sends a read. Its deadline (BLOCK + 3 s) is watched by one interval timer per reader (see `watch`), not by a
   * timer per read: at a few hundred reads a second, each bringing one entry, timers were part of the read's cost.
   */
  private async read(
    args: Array<string | number>,
    blockMs: number | undefined,
    version = this.version,
  ): Promise<ReadReply> {
    this.blocked = blockMs !== undefined;
    this.readVersion = version;
    this.readDeadline = Date.now() + (blockMs ?? 0) + READ_GRACE_MS;
    this.status.readStarted(blockMs);
    try {
      const result = (await this.redis.call('XREADGROUP', args)) as ReadReply;
      this.status.readSucceeded();
      return result;
    } catch (error) {
      const failure = this.overran ? new TimeoutError('XREADGROUP', (blockMs ?? 0) + READ_GRACE_MS) : error;
      // Recorded here, not by the loop: the loop may be waiting for the previous batch's XACK meanwhile.
      this.status.failed(explained(failure, this.redis));
      throw failure;
    } finally {
      this.blocked = false;
      this.readDeadline = undefined;
      this.overran = false;
    }
  }

  /**
   * A read past its deadline: the connection is half-dead (Redis frozen, a dead peer). Cutting it rejects the read,
   * which the loop counts as a timeout and answers by connecting again.
   */
  private watch(): void {
    if (this.readDeadline === undefined || Date.now() <= this.readDeadline || this.overran) return;
    this.overran = true;
    this.redis.disconnect(true);
  }

  /**
   * Delivers every entry of a read reply and acknowledges them, one XACK per stream. Returns the acknowledgement,
   * which never rejects (the caller may send its next read before awaiting it). `fresh`: new entries (`>`), not
   * own pending ones.
   */
  private handle(reply: ReadReply, fresh: boolean): Promise<unknown> {
    if (!reply) return DONE;
    const acks: Promise<unknown>[] = [];
    // One batch: what the read brought for a connection goes out in one write.
    let count = 0;
    for (const [, entries] of reply) count += entries.length;
    this.delivery.batch(count, () => {
      for (const [key, entries] of reply) {
        if (entries.length === 0) continue;
        // Kept for the XACK only: routed reads (NOACK) acknowledge nothing and need no list per read.
        const ids: string[] | undefined = this.settings.noAck ? undefined : [];
        let forNobody = 0;
        for (const [id, fields] of entries) {
          ids?.push(id);
          // Before delivering: a client must not get an entry from after a gap before it is told of the gap.
          if (!this.checkSequence(key, id, fields, fresh)) continue;
          if (this.forNobody(fields)) {
            forNobody++;
            continue;
          }
          this.positions?.advance(key, id);
          this.deliverEntry(key, id, fields);
        }
        // Entries skipped for nobody moved the position too; once per read is enough (nobody here reads it between).
        this.positions?.advance(key, entries[entries.length - 1][0]);
        if (forNobody > 0) {
          this.delivered += forNobody;
          this.metrics.entriesForNobody(forNobody);
        }
        if (ids) acks.push(this.redis.xack(key, this.settings.group, ...ids));
      }
    });
    if (acks.length === 0) return DONE;
    // Bounded: an XACK on a frozen connection must not hold the loop (the read sent with it times out anyway).
    return withTimeout(Promise.all(acks), READ_GRACE_MS, 'XACK').catch((error: unknown) => {
      // Unacknowledged entries come back as pending on the next start: delivered twice, dropped by dedup.
      this.metrics.consumerError('ack');
      this.logger.warn(`XACK failed: ${errorMessage(error)}`);
    });
  }

  /** Checks the entry's number; false when the entry was read before and must not be delivered again. */
  private checkSequence(key: string, id: string, fields: string[] | null, fresh: boolean): boolean {
    const check = this.sequences.check(key, id, sequenceOf(fields), fresh);
    if (check.kind === 'gap') this.gaps.missed(key, check.from, check.to);
    else if (check.kind === 'restarted') this.gaps.renumbered(key, check.n, check.previous);
    else if (check.kind === 'tail-lost') this.gaps.tailLost(key, check.n, check.previous);
    return check.kind !== 'repeat';
  }

  /**
   * Whether an entry is for a target with no client here, decided on its routing key before the envelope is parsed:
   * an entry for a room with no member here (on most gateways, most entries) costs a map lookup, not a parse and a
   * validation. Entries of older publishers have no key and are parsed.
   */
  private forNobody(fields: string[] | null): boolean {
    const routing = fields ? entryField(fields, 't') : undefined;
    return routing !== undefined && !this.delivery.wants(routing, positiveIntegerOf(entryField(fields!, 'q')));
  }

  private deliverEntry(key: string, id: string, fields: string[] | null): void {
    // A pending entry whose data was trimmed or deleted comes back without fields.
    if (!fields) return;
    const index = fields.indexOf('e');
    const json = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
    const checked =
      json === undefined
        ? { ok: false as const, reason: 'no field e', rejection: 'invalid' as const }
        : this.reader.fromJson(json);
    if (!checked.ok) {
      // The reason names the field or the bound, never the payload.
      this.metrics.envelopeRefused('redis-streams', checked.rejection);
      this.logger.warn(`Skipping stream entry ${key} ${id}: ${checked.reason}`);
      return;
    }
    this.delivered++;
    this.delivery.deliver(checked.envelope, 'redis-streams', checked.argsJson, { key, id });
  }

  /** Back-off wait: not a read, so health keeps reporting the error that caused it. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
