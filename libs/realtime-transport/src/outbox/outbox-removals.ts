import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime-streams/common';
import type { OutboxMetrics } from './outbox.metrics';
import type { OutboxStore } from './outbox-store.interface';

/** Ids kept for a retry while the store fails, at most; beyond, the oldest are republished at the next start. */
const MAX_QUEUED = 100_000;

/**
 * Deletes acknowledged records from the store in batches: ids collect while a chain turn runs, and one `remove`
 * call takes all of them at the end of the turn. At most one call is in flight; ids acknowledged meanwhile wait for
 * it, so a slow store gets fewer, larger calls. A failed call is retried with the next batch (a record removed late
 * is at worst republished at the next start, and the gateways drop the copy).
 */
export class OutboxRemovals {
  private readonly logger = new Logger('RealtimeOutbox');
  private queued: string[] = [];
  private inFlight: readonly string[] = [];
  private running?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private failing = false;
  private readonly idleListeners: Array<() => void> = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly metrics: OutboxMetrics,
    private readonly retryMs: number,
  ) {}

  add(id: string): void {
    this.queued.push(id);
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.queued.length === 0 && this.running === undefined;
  }

  /** Called when a removal finished and nothing else is queued. */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  /** Ids queued or being removed: records the store may still return although they were delivered. */
  collectIds(into: Set<string>): void {
    for (const id of this.queued) into.add(id);
    for (const id of this.inFlight) into.add(id);
  }

  /** Sends what is queued, in one call, unless a call is in flight (then it goes when that one answers). */
  flush(): void {
    if (this.running || this.queued.length === 0) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const ids = this.queued;
    this.queued = [];
    this.inFlight = ids;
    let result: void | Promise<void>;
    try {
      result = this.store.remove(ids);
    } catch (error) {
      this.failed(ids, error);
      return;
    }
    if (result && typeof result.then === 'function') {
      this.running = result.then(
        () => this.succeeded(ids),
        (error: unknown) => this.failed(ids, error),
      );
    } else {
      this.succeeded(ids);
    }
  }

  /** Sends what is queued and waits for every call, for at most `timeoutMs`; false when time ran out. */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.flush();
    while (this.running) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
      this.flush();
    }
    return this.queued.length === 0;
  }

  /** Stops retries (the store is about to close); what is still queued is republished at the next start. */
  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private succeeded(ids: readonly string[]): void {
    this.metrics.outboxRemoved(ids.length);
    if (this.failing) this.logger.log('Outbox store removes records again');
    this.failing = false;
    this.done();
  }

  private failed(ids: readonly string[], error: unknown): void {
    this.metrics.outboxStoreError('remove');
    if (!this.failing) {
      this.logger.warn(`Outbox store failed to remove ${ids.length} records (retrying): ${errorMessage(error)}`);
    }
    this.failing = true;
    this.queued = ids.concat(this.queued);
    if (this.queued.length > MAX_QUEUED) this.queued.splice(0, this.queued.length - MAX_QUEUED);
    this.done();
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private done(): void {
    this.running = undefined;
    this.inFlight = [];
    if (!this.failing) this.flush();
    if (this.idle) for (const listener of this.idleListeners) listener();
  }
}
