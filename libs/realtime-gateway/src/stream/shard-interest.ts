import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime-streams/common';
import type { StreamKeys } from '@realtime-streams/contracts';

/** What starts and stops the reading of one shard (the stream consumer). */
export interface ShardReading {
  /**
   * Starts reading `key` from its end: resolves once every entry appended from now on will be read (the group is
   * placed at the stream's last entry and the gap check and positions start there). With `since` (epoch ms), from
   * the entries appended since then instead: a start that failed at `since` (Redis unreachable) and succeeds later
   * reads what came meanwhile.
   */
  startReading(key: string, since?: number): Promise<void>;
  /** Stops reading `key`: resolves once nothing read from it is in hand any more. */
  stopReading(key: string): Promise<void>;
}

/** What interest routing reports; the Prometheus implementation lives in metrics/. */
export interface ShardInterestMetrics {
  /** Shards this gateway reads now. */
  shardsRead(count: number): void;
  /** A shard's reading started (`started`) or stopped (`stopped`), or a start failed (`failed`). */
  shardReading(change: 'started' | 'stopped' | 'failed'): void;
}

type Phase = 'idle' | 'starting' | 'reading' | 'stopping';

interface Shard {
  key: string;
  /** Targets with a connection here that map to this shard. */
  targets: Set<string>;
  phase: Phase;
  /** The start or stop under way. */
  work?: Promise<void>;
  /** Read at least until then, members or not: a prepare's hold, then the linger after the last member left. */
  holdUntil: number;
  /** After a failed start: not tried again before then. */
  retryAt: number;
  timer?: NodeJS.Timeout;
  /** Prepares waiting for the shard to be read. */
  waiting?: { promise: Promise<void>; resolve: () => void };
  /**
   * Since when the shard should have been read and was not: its first failed start, or a target present before its
   * shard was read. The start that succeeds reads from then on (see ShardReading).
   */
  failedSince?: number;
}

/** How long a prepare waits for a shard's start before it lets the caller go on (Redis down: see `prepare`). */
const PREPARE_WAIT_MS = 3000;
/** Back-off between attempts to start a shard whose start failed. */
const RETRY_MS = 500;

/**
 * Interest routing: this gateway reads a shard only while a target with a connection here maps to it, so the cost of
 * reading follows the deliveries it makes, not the traffic of every room.
 *
 * - A target present here (its first connection, or the first member of a group: told by the registry) makes its
 *   shard wanted. Whoever is about to make a target present **prepares** it first and waits: the shard's group is
 *   placed at the stream's end before the join is answered (or the handshake, or a resumed session's replay), so
 *   no entry after it is missed and none before it is read.
 * - A shard no target needs any more is read on for `lingerMs` (a page reload, a member flapping), then its
 *   reading stops and this gateway's group on it is removed. A prepared shard is held `holdMs` for its target to
 *   become present; one that becomes present without it (a handshake slower than that) is read from the moment it
 *   became present, as after a failed start.
 * - Redis unreachable: a prepare lets the join through as soon as the start fails (at most 3 s if it hangs); the
 *   shard keeps being started, and the start that succeeds places the group at the time of the first failed one
 *   (less 5 s for clocks), so what was appended meanwhile (Redis back before this gateway noticed) is read, not
 *   skipped. Connections admitted during an outage are not held up either.
 */
export class ShardInterest {
  private readonly logger = new Logger('RealtimeStreamRouting');
  private readonly shards = new Map<string, Shard>();
  private reading?: ShardReading;
  private readCount = 0;
  private stopped = false;

  constructor(
    private readonly keys: StreamKeys,
    private readonly timing: {
      /** How long a shard is read on after its last target here went. */
      lingerMs: number;
      /** How long a prepare holds its shards for the target to become present (a handshake may take that long). */
      holdMs: number;
      /** How long a prepare waits for a start before it lets the caller go on (default 3 s). */
      prepareWaitMs?: number;
    },
    private readonly metrics: ShardInterestMetrics,
  ) {}

  /**
   * Set by the stream consumer, which is built after the hub (it closes connections after a gap, and connections
   * wait for shards here): the one late binding that breaks the cycle. Until then, prepares resolve at once.
   */
  readWith(reading: ShardReading): void {
    this.reading = reading;
    for (const shard of this.shards.values()) this.settle(shard);
  }

  /** Shards read now. */
  get read(): number {
    return this.readCount;
  }

  /** The keys of the shards read now. */
  readKeys(): string[] {
    return [...this.shards.values()].filter((s) => s.phase === 'reading').map((s) => s.key);
  }

  /** The shard key of a target's routing key. */
  shardOf(targetKey: string): string {
    return this.keys.forTarget(targetKey);
  }

  /** A target got its first connection here, or lost its last one (see ConnectionRegistry.onTargets). */
  targetChanged(targetKey: string, present: boolean): void {
    const shard = this.shardFor(this.keys.forTarget(targetKey));
    if (present) shard.targets.add(targetKey);
    else if (shard.targets.delete(targetKey) && shard.targets.size === 0)
      shard.holdUntil = Math.max(shard.holdUntil, Date.now() + this.timing.lingerMs);
    // Present before it was prepared (a handshake past the hold): read from now on, as after a failed start.
    if (present && (shard.phase === 'idle' || shard.phase === 'stopping') && this.reading)
      shard.failedSince ??= Date.now();
    this.settle(shard);
  }

  /**
   * Makes sure the shards of `targetKeys` are read before it resolves, and holds them for `holdMs` (long enough
   * for the target to become present: the caller does that next; by default the admission's hold, which lasts
   * past a handshake). Never rejects (see the class comment).
   */
  async prepare(targetKeys: Iterable<string>, holdMs = this.timing.holdMs): Promise<void> {
    if (!this.reading || this.stopped) return;
    const until = Date.now() + holdMs;
    const waits: Promise<void>[] = [];
    for (const targetKey of targetKeys) {
      const shard = this.shardFor(this.keys.forTarget(targetKey));
      shard.holdUntil = Math.max(shard.holdUntil, until);
      // Waited for first: a shard someone waits for is wanted until it is read, whatever the hold. Not once a start
      // failed: the one that succeeds reads from that failure on, so the caller may go on at once.
      if (shard.phase !== 'reading' && shard.failedSince === undefined) waits.push(this.readingOf(shard));
      this.settle(shard);
    }
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const waitMs = this.timing.prepareWaitMs ?? PREPARE_WAIT_MS;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(waits), gaveUp]);
    clearTimeout(timer);
  }

  /** Stops every start, stop and linger (the consumer stops reading on its own). */
  stop(): void {
    this.stopped = true;
    for (const shard of this.shards.values()) {
      clearTimeout(shard.timer);
      shard.waiting?.resolve();
    }
  }

  private shardFor(key: string): Shard {
    let shard = this.shards.get(key);
    if (!shard) this.shards.set(key, (shard = { key, targets: new Set(), phase: 'idle', holdUntil: 0, retryAt: 0 }));
    return shard;
  }

  /** Resolves when the shard is read (or routing stops). */
  private readingOf(shard: Shard): Promise<void> {
    if (!shard.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      shard.waiting = { promise, resolve };
    }
    return shard.waiting.promise;
  }

  private wanted(shard: Shard, now: number): boolean {
    return shard.targets.size > 0 || now < shard.holdUntil || shard.waiting !== undefined;
  }

  /** Moves the shard toward what it should be: read while wanted, not read once the hold is over. */
  private settle(shard: Shard): void {
    if (!this.reading || this.stopped || shard.work) return;
    clearTimeout(shard.timer);
    shard.timer = undefined;
    const now = Date.now();
    if (this.wanted(shard, now)) {
      if (shard.phase === 'idle') {
        if (now < shard.retryAt) return this.later(shard, shard.retryAt - now);
        return this.begin(shard);
      }
      // Read with no target here: until the hold ends.
      if (shard.targets.size === 0) this.later(shard, shard.holdUntil - now);
      return;
    }
    if (shard.phase === 'reading') return this.end(shard);
    // Idle, and nobody needs it: nothing of it is kept.
    this.shards.delete(shard.key);
  }

  private later(shard: Shard, ms: number): void {
    shard.timer = setTimeout(() => this.settle(shard), Math.max(0, ms) + 1);
    shard.timer.unref();
  }

  private begin(shard: Shard): void {
    shard.phase = 'starting';
    shard.work = this.reading!.startReading(shard.key, shard.failedSince).then(
      () => {
        shard.failedSince = undefined;
        shard.phase = 'reading';
        this.readCount++;
        this.metrics.shardsRead(this.readCount);
        this.metrics.shardReading('started');
        shard.waiting?.resolve();
        shard.waiting = undefined;
      },
      (error: unknown) => {
        shard.phase = 'idle';
        shard.retryAt = Date.now() + RETRY_MS;
        this.metrics.shardReading('failed');
        // Read from the first failure on once it starts (see the class comment): nobody needs to wait for it.
        shard.failedSince ??= Date.now();
        shard.waiting?.resolve();
        shard.waiting = undefined;
        this.logger.warn(`Could not start reading ${shard.key}: ${errorMessage(error)}; retrying`);
      },
    );
    void shard.work.finally(() => {
      shard.work = undefined;
      this.settle(shard);
    });
  }

  private end(shard: Shard): void {
    shard.phase = 'stopping';
    shard.work = this.reading!.stopReading(shard.key).then(
      () => undefined,
      (error: unknown) => this.logger.warn(`Stopping the reading of ${shard.key}: ${errorMessage(error)}`),
    );
    void shard.work.finally(() => {
      shard.phase = 'idle';
      shard.work = undefined;
      this.readCount--;
      this.metrics.shardsRead(this.readCount);
      this.metrics.shardReading('stopped');
      this.settle(shard);
    });
  }
}
