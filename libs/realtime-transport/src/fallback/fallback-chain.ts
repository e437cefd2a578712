import { Logger } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { TransportPublishError } from '../errors/transport-publish.error';
import type { OutboxChainPort, OutboxRelay } from '../outbox/outbox-relay';
import type { RoutePlan, TransportRouter } from '../routing/transport.router';
import type { RealtimeTransport, TransportName } from '../transports/realtime-transport.interface';
import { errorMessage, withTimeout } from '@realtime-streams/common';
import { type BreakerSettings, type BreakerState, CircuitBreaker } from './circuit-breaker';
import type { FallbackChainMetrics } from './fallback-chain.metrics';
import { EnvelopeLedger } from './envelope-ledger';
import type { BufferEntry } from './pending-buffer';
import { RecentAcks } from './recent-acks';
import { SettledOutboxOutcomes } from './settled-outbox-outcomes';

/** Replayed envelopes kept per transport at most, whatever the window. */
const MAX_REPLAY = 50_000;

export interface FallbackChainSettings {
  bufferCapacity: number;
  /** How far back, from the first failure, acknowledged envelopes are replayed when a lossy transport fails. */
  replayWindowMs: number;
  maxBatchSize: number;
  publishTimeoutMs: number;
  maxAttemptsPerEnvelope: number;
  breaker: BreakerSettings;
}

/** A transport with its breaker. */
export interface ChainLink {
  readonly transport: RealtimeTransport;
  readonly breaker: CircuitBreaker;
  /** Bit of this link in `BufferEntry.failedMask`. */
  readonly bit: number;
  /** What it acknowledged lately, when acknowledgements may be lost in a crash. */
  readonly recent?: RecentAcks;
}

export type PublishedListener = (transport: TransportName, batch: readonly OutboundEnvelope[]) => void;

export interface FlushReport {
  /** Envelopes still waiting when the deadline passed; they were dropped. */
  dropped: number;
  /** Outboxed envelopes still waiting when the deadline passed: not dropped, their records stay for the next start. */
  leftInOutbox: number;
}

/** Time the flush still gives the outbox store to remove acknowledged records after the deadline. */
const REMOVAL_GRACE_MS = 1000;

/**
 * Moves envelopes from the pending buffer to the transports, one batch at a time and in order. It chooses where
 * each envelope goes and when batches are written; what becomes of an envelope is the ledger's (`EnvelopeLedger`).
 *
 * Each envelope goes to the first transport of its route whose breaker is closed (or to all of them under dual
 * write). A failed envelope is retried on the next transport with the same id; when no transport can take it, it
 * waits in the buffer, and the buffer drains in order when a breaker closes again. Only one batch is in flight at
 * a time: batches grow by themselves under load (everything that arrived while the previous write was in flight),
 * and a room's envelopes can never overtake each other.
 *
 * With an outbox (`useOutbox`), envelopes queued with `enqueueDurable` are never dropped: when the buffer is full
 * they wait in the store and the relay brings them back in order (see `OutboxRelay`); their records are removed
 * once per turn, for everything the turn delivered. Nor are they given up after `maxAttemptsPerEnvelope`: they
 * stall in place, tried again every `breaker.openMs` and at once when a breaker closes (`EnvelopeLedger`).
 */
export class FallbackChain {
  private readonly logger = new Logger('RealtimeFallbackChain');
  private readonly links: ChainLink[];
  private readonly byName = new Map<TransportName, ChainLink>();
  private readonly ledger: EnvelopeLedger;
  private readonly publishedListeners: PublishedListener[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private pumping = false;
  private scheduled = false;
  /** Wakes the chain when the earliest stalled envelope is due again. */
  private retryTimer?: NodeJS.Timeout;
  private outbox?: OutboxRelay;
  /** Holds an outbox record until every bridge lane is done with its envelope (see SettledOutboxOutcomes). */
  private outcomes?: SettledOutboxOutcomes;
  private active: TransportName | 'none';

  constructor(
    transports: readonly RealtimeTransport[],
    private readonly router: TransportRouter,
    private readonly settings: FallbackChainSettings,
    private readonly metrics: FallbackChainMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.links = transports.map((transport, index) => {
      const recent =
        transport.acknowledgementsMayBeLost && settings.replayWindowMs > 0
          ? new RecentAcks(settings.replayWindowMs, MAX_REPLAY)
          : undefined;
      const link: ChainLink = {
        transport,
        breaker: new CircuitBreaker(settings.breaker, now),
        bit: 1 << index,
        recent,
      };
      link.breaker.onChange((state, previous) => this.onBreakerChange(link, state, previous));
      transport.onPartLost?.((owns, part) => this.replayPart(link, owns, part));
      // Envelopes waiting for that part go out now, ahead of their targets' newer ones.
      transport.onPartAvailable?.(() => this.schedule());
      this.byName.set(transport.name, link);
      metrics.breakerState(transport.name, 'closed');
      return link;
    });
    this.ledger = new EnvelopeLedger(
      {
        bufferCapacity: settings.bufferCapacity,
        maxAttemptsPerEnvelope: settings.maxAttemptsPerEnvelope,
        replayWindowMs: settings.replayWindowMs,
        // A stalled envelope is tried about as often as an open breaker would try its transport again.
        stalledRetryMs: settings.breaker.openMs,
      },
      metrics,
      now,
    );
    this.active = this.computeActive();
  }

  /** Queues an envelope for publishing. Never throws and never waits: the write happens off the caller's path. */
  enqueue(outbound: OutboundEnvelope): void {
    this.ledger.enqueue(outbound);
    this.schedule();
  }

  /**
   * Queues an envelope whose outbox record the application has committed. Like `enqueue`, except that it is never
   * dropped: while the buffer is full (or the relay is catching up), it stays in the store and the relay admits it
   * in store order. Without an outbox this is `enqueue`.
   */
  enqueueDurable(outbound: OutboundEnvelope): void {
    const outbox = this.outbox;
    if (!outbox) return this.enqueue(outbound);
    if (outbox.holding || !this.ledger.enqueueOutboxed(outbound)) outbox.spill(outbound);
    else this.schedule();
  }

  /** Attaches the outbox relay (once, before the application starts). */
  useOutbox(relay: OutboxRelay): void {
    if (this.outbox) throw new Error('FallbackChain already has an outbox');
    this.outbox = relay;
    const ledger = this.ledger;
    this.outcomes = new SettledOutboxOutcomes(
      relay,
      this.links.map((link) => link.transport),
      () => this.resolveIdle(),
    );
    ledger.attachOutbox(this.outcomes);
    const port: OutboxChainPort = {
      get room() {
        return Math.max(0, ledger.capacity - ledger.size);
      },
      capacity: ledger.capacity,
      get heldCount() {
        return ledger.outboxedCount;
      },
      admit: (outbounds) => {
        ledger.admitOutboxed(outbounds);
        this.schedule();
      },
      collectHeldIds: (into) => ledger.collectOutboxedIds(into),
      outboxIdle: () => this.resolveIdle(),
    };
    relay.bind(port);
  }

  /** The outbox relay, when the module has an outbox. */
  get outboxRelay(): OutboxRelay | undefined {
    return this.outbox;
  }

  /** Transports in fallback order, with their breakers (for health checks and the prober). */
  get chainLinks(): readonly ChainLink[] {
    return this.links;
  }

  link(name: TransportName): ChainLink | undefined {
    return this.byName.get(name);
  }

  /** The transport the primary route uses now, or `none` when no transport can take envelopes. */
  get activeTransport(): TransportName | 'none' {
    return this.active;
  }

  /** The transport the primary route prefers when everything is healthy. */
  get preferredTransport(): TransportName | undefined {
    return this.router.primaryPlan().order[0];
  }

  get pendingCount(): number {
    return this.ledger.size;
  }

  onPublished(listener: PublishedListener): () => void {
    this.publishedListeners.push(listener);
    return () => {
      const index = this.publishedListeners.indexOf(listener);
      if (index >= 0) this.publishedListeners.splice(index, 1);
    };
  }

  /** Call after the router's flags changed: waiting envelopes are routed again and the active transport updated. */
  routingChanged(): void {
    this.refreshActive();
    this.schedule();
  }

  /**
   * Resolves when nothing waits and nothing is in flight; with an outbox, also when the relay has nothing left to
   * read back and every acknowledged record was removed.
   */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Publishes what it can before the deadline; what is still waiting then is dropped and reported, except outboxed
   * envelopes: they stay in the store for the next start (reported as `leftInOutbox`).
   */
  async flush(timeoutMs: number): Promise<FlushReport> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.whenIdle(), deadline]).finally(() => clearTimeout(timer));
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    let leftInOutbox = 0;
    if (this.outbox) {
      this.outcomes!.close();
      leftInOutbox = this.ledger.leaveWaitingInOutbox() + this.outbox.close();
      // Records delivered before the deadline are removed now, so the next start does not send them again.
      await this.outbox.removals.settle(REMOVAL_GRACE_MS);
    }
    const dropped = this.ledger.dropWaiting();
    this.metrics.bufferDepth(this.ledger.size);
    return { dropped, leftInOutbox };
  }

  private get idle(): boolean {
    return this.ledger.size === 0 && !this.pumping && (this.outbox?.idle ?? true) && (this.outcomes?.idle ?? true);
  }

  private resolveIdle(): void {
    if (this.idleWaiters.length > 0 && this.idle) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private schedule(): void {
    if (this.pumping || this.scheduled) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: envelopes published by other I/O callbacks of the same loop turn join
    // the batch, which is what makes one pipeline per burst.
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const batches = this.collect();
        if (batches.size === 0) break;
        const writes: Promise<void>[] = [];
        for (const [link, entries] of batches) writes.push(this.write(link, entries));
        await Promise.all(writes);
        // One removal call per turn, for every outboxed envelope the turn delivered; the relay reads on if behind.
        this.outbox?.endTurn();
      }
    } finally {
      this.pumping = false;
      this.metrics.bufferDepth(this.ledger.size);
      this.retryStalledWhenDue();
      this.resolveIdle();
    }
  }

  /**
   * Stalled envelopes were skipped: the chain wakes when the first is due. Only while some transport takes traffic
   * (otherwise the last walk may not have seen them all, and a breaker that closes wakes the chain anyway).
   */
  private retryStalledWhenDue(): void {
    const due = this.ledger.nextRetryAt;
    if (due === undefined || this.retryTimer || !this.links.some((link) => link.breaker.allowsTraffic())) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.schedule();
      },
      Math.max(0, due - this.now()),
    );
    this.retryTimer.unref();
  }

  /** Takes the next batch off the buffer, in order, grouped by the transport each envelope goes to. */
  private collect(): Map<ChainLink, BufferEntry[]> {
    if (!this.links.some((link) => link.breaker.allowsTraffic())) return new Map();
    this.diverted = undefined;
    return this.ledger.takeBatches<ChainLink>(this.settings.maxBatchSize, (entry, sendTo) => this.route(entry, sendTo));
  }

  /**
   * Targets whose envelope went, in the batch being collected, to another transport than the one their route
   * prefers now (it had failed there): their later envelopes of the batch follow it, or they could reach the
   * gateways first (a Redis shard back up while an envelope it failed is still on its way over the bridge). Only
   * exists while some envelope was diverted, so the usual batch pays nothing for it.
   */
  private diverted?: Map<string, ChainLink>;

  /** Sends the envelope to every available transport under dual write, else to the one `choose` picks. */
  private route(entry: BufferEntry, sendTo: (link: ChainLink) => void): void {
    const plan = this.planOf(entry);
    if (plan.dual) {
      for (const name of plan.order) {
        const link = this.byName.get(name)!;
        if (link.breaker.allowsTraffic() && link.transport.accepts?.(entry.outbound) !== false) sendTo(link);
      }
      return;
    }
    const earlier = this.diverted?.get(entry.outbound.targetKey);
    if (earlier?.breaker.allowsTraffic()) return sendTo(earlier);
    const link = this.choose(plan, entry);
    if (!link) return;
    if (link !== this.preferred(plan)) (this.diverted ??= new Map()).set(entry.outbound.targetKey, link);
    sendTo(link);
  }

  /** The first transport of the plan that takes traffic now. */
  private preferred(plan: RoutePlan): ChainLink | undefined {
    for (const name of plan.order) {
      const link = this.byName.get(name)!;
      if (link.breaker.allowsTraffic()) return link;
    }
    return undefined;
  }

  /** The envelope's route, cached on it until the router's flags change. */
  private planOf(entry: BufferEntry): RoutePlan {
    const version = this.router.version;
    if (entry.planVersion !== version) {
      entry.plan = this.router.route(entry.outbound.targetKey);
      entry.planVersion = version;
    }
    return entry.plan!;
  }

  /**
   * First available transport of the plan this envelope has not failed on yet; a fresh round when all have. A
   * transport whose part for this envelope is down (`accepts`) is not available to it: with none left, the envelope
   * waits in its place (its target's later envelopes share its part, so they wait too) until a part comes back.
   */
  private choose(plan: RoutePlan, entry: BufferEntry): ChainLink | undefined {
    let fallback: ChainLink | undefined;
    for (const name of plan.order) {
      const link = this.byName.get(name)!;
      if (!link.breaker.allowsTraffic() || link.transport.accepts?.(entry.outbound) === false) continue;
      if (!this.ledger.hasFailedOn(entry, link.bit)) return link;
      fallback ??= link;
    }
    if (fallback) this.ledger.startFreshRound(entry);
    return fallback;
  }

  private async write(link: ChainLink, entries: BufferEntry[]): Promise<void> {
    const name = link.transport.name;
    const batch = entries.map((entry) => entry.outbound);
    const started = performance.now();
    let failed: ReadonlySet<number> | 'all' | undefined;
    let failure: unknown;
    let partsDown = false;
    try {
      await withTimeout(link.transport.publish(batch), this.settings.publishTimeoutMs, `${name} publish`);
    } catch (error) {
      failure = error;
      failed = error instanceof TransportPublishError && error.failedIndexes ? new Set(error.failedIndexes) : 'all';
      partsDown = error instanceof TransportPublishError && error.partsDown;
    }
    const seconds = (performance.now() - started) / 1000;
    const failedCount = failed === undefined ? 0 : failed === 'all' ? entries.length : failed.size;
    if (failedCount < entries.length) this.metrics.observePublish(name, true, entries.length - failedCount, seconds);
    if (failedCount > 0) {
      this.metrics.observePublish(name, false, failedCount, seconds);
      this.logger.debug(`${name} failed ${failedCount} of ${entries.length} envelopes: ${errorMessage(failure)}`);
      // Some parts down, the rest delivered: those envelopes go on to the next transport, the breaker stays closed.
      if (partsDown) link.breaker.recordSuccess();
      else if (failure instanceof TransportDisconnectedError) link.breaker.trip();
      else link.breaker.recordFailure();
      if (!link.breaker.allowsTraffic()) {
        this.logger.warn(`${name} is failing (${errorMessage(failure)}); envelopes move to the next transport`);
      }
    } else {
      link.breaker.recordSuccess();
    }

    const delivered: OutboundEnvelope[] = [];
    for (let i = 0; i < entries.length; i++) {
      const ok = failed === undefined || (failed !== 'all' && !failed.has(i));
      if (ok) {
        delivered.push(batch[i]);
        this.ledger.acknowledge(entries[i]);
      } else {
        this.ledger.fail(entries[i], link.bit);
      }
    }
    if (delivered.length > 0) {
      link.recent?.record(delivered, Date.now());
      for (const listener of this.publishedListeners) listener(name, delivered);
    }
  }

  private onBreakerChange(link: ChainLink, state: BreakerState, previous: BreakerState): void {
    this.metrics.breakerState(link.transport.name, state);
    this.logger.log(`${link.transport.name} breaker ${previous} -> ${state}`);
    if (state === 'open' && previous === 'closed') this.replayRecent(link);
    this.refreshActive();
    if (state === 'closed') {
      this.ledger.retryStalledNow();
      this.schedule();
    }
  }

  /**
   * The transport just failed: what it acknowledged shortly before may be lost with it (Redis killed before the
   * gateways read the entries). Those envelopes go back to the head of the buffer for the next transport, same
   * ids; the gateways drop the ones they had already delivered.
   */
  private replayRecent(link: ChainLink): void {
    if (!link.recent) return;
    const since = (link.breaker.failingSince ?? Date.now()) - this.settings.replayWindowMs;
    const replays = link.recent.takeSince(since);
    if (replays.length === 0) return;
    this.ledger.replay(link.transport.name, link.bit, replays);
    this.schedule();
  }

  /**
   * One part of the transport failed (a cluster node): what it acknowledged in the replay window may be lost with it
   * (appended on a master that died before its replica got it), so those envelopes are replayed like `replayRecent`
   * does for a whole transport; the other parts' envelopes stay where they are.
   */
  private replayPart(link: ChainLink, owns: (targetKey: string) => boolean, part: string): void {
    if (!link.recent) return;
    const replays = link.recent.takeMatching(Date.now() - this.settings.replayWindowMs, owns);
    this.logger.warn(`${link.transport.name}: ${part} failed; the other parts keep taking envelopes`);
    if (replays.length === 0) return;
    this.ledger.replay(link.transport.name, link.bit, replays);
    this.schedule();
  }

  private refreshActive(): void {
    const next = this.computeActive();
    if (next === this.active) return;
    this.metrics.fallbackSwitch(this.active, next);
    const message = `Realtime transport switched from ${this.active} to ${next}`;
    if (next === 'none') this.logger.error(`${message}: envelopes wait in the buffer`);
    else this.logger.warn(message);
    this.active = next;
  }

  private computeActive(): TransportName | 'none' {
    for (const name of this.router.primaryPlan().order) {
      if (this.byName.get(name)?.breaker.allowsTraffic()) return name;
    }
    return 'none';
  }
}
