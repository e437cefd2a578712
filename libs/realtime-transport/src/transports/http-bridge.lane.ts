import { Logger } from '@nestjs/common';
import { Pool } from 'undici';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { errorMessage } from '@realtime-streams/common';
import { GaveUpReport } from './http-bridge.gave-up';
import type { HttpBridgeLaneMetrics, LaneDropReason } from './http-bridge.metrics';
import type { BridgeTicket } from './http-bridge.ticket';

export interface HttpBridgeLaneSettings {
  secret: string | undefined;
  connections: number;
  /** Time one POST may take. */
  timeoutMs: number;
  probeTimeoutMs: number;
  /** Interval of the lane's own recovery probe while it is down. */
  probeIntervalMs: number;
  /** Largest request body; a longer queue goes out in several POSTs, in order. */
  maxBodyBytes: number;
  /** Envelopes queued at most; past it the oldest are given up for this instance (and it is told). */
  queueEnvelopes: number;
  /** Time an envelope may wait for this instance while it is down before it is given up for it (and it is told). */
  retryMs: number;
}

interface LaneItem {
  readonly outbound: OutboundEnvelope;
  readonly queuedAt: number;
  readonly ticket: BridgeTicket<HttpBridgeLane>;
  /** The last envelope of its ticket's batch: delivering it completes the batch on this lane. */
  readonly last: boolean;
  /** The ticket was rejected while this item was in flight: the chain sends it again, so never retry it here. */
  withdrawn: boolean;
}

/**
 * One gateway instance behind the HTTP bridge: a keep-alive pool to it and a queue of its own. The lane POSTs its
 * queue in order, one request at a time (so it never reorders a room's envelopes), with its own timeout; a slow or
 * paused instance therefore delays only its own clients. When a POST fails the lane is marked down and keeps what it
 * missed: it is skipped until its health probe passes, then sends the same envelopes again (the gateway dedups by
 * id). What waits longer than `retryMs`, or beyond `queueEnvelopes`, or what the instance refused, is given up for
 * this instance, counted, and never silently: the targets go in a report (`GaveUpReport`) POSTed before anything
 * queued after them, and the instance closes those clients with the reconnectable "missed messages" close, so they
 * re-fetch from before the hole. Only volatile envelopes (typing) are dropped without a word: they are never replayed.
 */
export class HttpBridgeLane {
  private readonly logger = new Logger('HttpBridgeTransport');
  private readonly pool: Pool;
  private readonly path: string;
  private readonly healthPath: string;
  private readonly headers: Record<string, string>;
  /**
   * Items from `head` on are queued; the first `inFlight` of them are in the current POST, and the first `attempted`
   * were sent before without an answer. The instance may have those (a paused process handles the request when it
   * resumes), so they are never given up as expired or overflow, only retried: a drop is then counted only for
   * envelopes the instance certainly never got. They stay bounded by one request body.
   */
  private queue: LaneItem[] = [];
  private head = 0;
  private inFlight = 0;
  private attempted = 0;
  private sending = false;
  private probing?: Promise<boolean>;
  private recoveryTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly drainWaiters: Array<() => void> = [];
  /** What was given up for the instance and not told to it yet. */
  private readonly report: GaveUpReport<BridgeTicket<HttpBridgeLane>>;
  /** Dropped during the current outage, for the "is back" log line. */
  private droppedWhileAway = 0;
  private lastRefusal = '';
  up = true;
  /** Whether any request or probe has had an answer yet (the first may come before the gateway listens). */
  seen = false;
  lastError?: string;

  constructor(
    readonly url: URL,
    healthUrl: URL,
    private readonly settings: HttpBridgeLaneSettings,
    private readonly metrics: HttpBridgeLaneMetrics,
  ) {
    if (healthUrl.origin !== url.origin) {
      throw new Error(`HTTP bridge health URL ${healthUrl.href} must be on the same origin as ${url.href}`);
    }
    this.pool = new Pool(url.origin, {
      connections: settings.connections,
      keepAliveTimeout: 30_000,
      connect: { timeout: 2000 },
    });
    this.path = url.pathname + url.search;
    this.healthPath = healthUrl.pathname + healthUrl.search;
    this.headers = { 'content-type': 'application/json' };
    if (settings.secret) this.headers.authorization = `Bearer ${settings.secret}`;
    this.report = new GaveUpReport(settings.queueEnvelopes);
    metrics.up(true);
    metrics.queueDepth(0);
  }

  /** Envelopes queued for this instance, the ones in flight included. */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues a batch behind what the lane already holds and starts sending when the lane is up and idle. A down lane
   * takes only durable envelopes: volatile ones (typing) are never replayed, so they are dropped for it at once.
   */
  enqueue(batch: readonly OutboundEnvelope[], ticket: BridgeTicket<HttpBridgeLane>, now: number): void {
    let end = batch.length;
    if (!this.up) {
      let skipped = 0;
      while (end > 0 && batch[end - 1].envelope.volatile) end--;
      for (let i = 0; i < end; i++) if (batch[i].envelope.volatile) skipped++;
      skipped += batch.length - end;
      if (skipped > 0) this.metrics.dropped('volatile', skipped);
    }
    let queued = 0;
    for (let i = 0; i < end; i++) {
      const outbound = batch[i];
      if (!this.up && outbound.envelope.volatile) continue;
      this.queue.push({ outbound, queuedAt: now, ticket, last: i === end - 1, withdrawn: false });
      queued++;
    }
    ticket.queued(queued);
    this.expire(now);
    const over = this.depth - this.settings.queueEnvelopes;
    if (over > 0) this.dropQueued(over, 'overflow');
    this.metrics.queueDepth(this.depth);
    this.pump();
  }

  /** The ticket was rejected: the chain will send its envelopes again, so forget those not in flight. */
  withdraw(ticket: BridgeTicket<HttpBridgeLane>): void {
    const start = this.head + this.inFlight;
    for (let i = this.head; i < start; i++) if (this.queue[i].ticket === ticket) this.queue[i].withdrawn = true;
    const attemptedEnd = this.head + this.attempted;
    let kept = start;
    for (let i = start; i < this.queue.length; i++) {
      if (this.queue[i].ticket !== ticket) this.queue[kept++] = this.queue[i];
      else if (i < attemptedEnd) this.attempted--;
    }
    if (kept === this.queue.length) return;
    this.queue.length = kept;
    this.metrics.queueDepth(this.depth);
    this.notifyDrained();
  }

  /**
   * Probes the instance (never two probes at once) and marks the lane up or down; resolves with the outcome.
   * A passing probe restarts the sending of what the lane kept.
   */
  check(): Promise<boolean> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** Resolves once nothing is queued, in flight, or given up and not reported. */
  whenDrained(): Promise<void> {
    if (this.drained) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Drops what is still queued (counted as `shutdown`) and closes the pool; a request still in flight is cut. What
   * was given up and not reported stays untold: its tickets are never settled, so the outbox keeps those records.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
    const busy = this.sending;
    const waiting = this.depth - this.inFlight;
    if (waiting > 0) {
      this.dropRange(this.head + this.inFlight, this.queue.length, 'shutdown');
      this.logger.warn(`${this.url.href}: ${waiting} envelopes not delivered to this instance before shutdown`);
    }
    const untold = this.report.abandon();
    if (untold > 0) {
      this.metrics.gaveUpReported('shutdown', untold);
      this.logger.error(
        `${this.url.href}: ${untold} envelopes given up for this instance were never reported to it (unreachable ` +
          'until shutdown): its clients of those targets are not told; outboxed ones are sent again at the next start',
      );
    }
    this.notifyDrained();
    await (busy ? this.pool.destroy() : this.pool.close()).catch(() => undefined);
  }

  private pump(): void {
    if (this.sending || !this.up || this.closed || (this.depth === 0 && !this.report.pending)) return;
    this.sending = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.up && !this.closed) {
        // The report goes before anything queued after what it covers, so the instance closes those clients before
        // they see past the hole; what was sent before without an answer is older than the hole and goes first.
        if (this.report.pending && this.attempted === 0) {
          if (!(await this.sendReport())) break;
          continue;
        }
        const body = this.takeBatch();
        if (body === undefined) break;
        let status: number;
        try {
          status = await this.post(body);
        } catch (error) {
          this.postFailed(error);
          break;
        }
        if (status >= 200 && status < 300) {
          this.delivered();
        } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          // The instance refused this batch for good (bad secret, too large, invalid): sending it again cannot help.
          this.refused(status);
          break;
        } else {
          this.postFailed(new Error(`${this.url.href} answered ${status} ${this.lastRefusal}`));
          break;
        }
      }
    } finally {
      this.sending = false;
      this.notifyDrained();
    }
  }

  /**
   * Marks the head of the queue in flight, up to the body limit, and returns it as one JSON array. With a report
   * waiting, only what was sent before without an answer (older than what the report covers).
   */
  private takeBatch(): string | undefined {
    if (this.depth === 0) return undefined;
    const parts: string[] = [];
    let size = 2;
    let i = this.head;
    const end = this.report.pending ? this.head + this.attempted : this.queue.length;
    for (; i < end; i++) {
      const json = this.queue[i].outbound.json;
      // Worst case of UTF-8 bytes per UTF-16 unit; one envelope always fits (args are capped).
      const length = json.length * 3;
      if (parts.length > 0 && size + length + 1 > this.settings.maxBodyBytes) break;
      parts.push(json);
      size += length + 1;
    }
    this.inFlight = i - this.head;
    return '[' + parts.join(',') + ']';
  }

  private delivered(): void {
    const end = this.head + this.inFlight;
    // Settled per run of one ticket's items (a batch's envelopes sit together in the queue), before the tickets are
    // acknowledged: a ticket every lane is done with needs no tracking after its acknowledgement.
    let ticket: BridgeTicket<HttpBridgeLane> | undefined;
    let run = 0;
    for (let i = this.head; i < end; i++) {
      const item = this.queue[i];
      if (item.ticket !== ticket) {
        ticket?.laneSettled(run);
        ticket = item.ticket;
        run = 0;
      }
      run++;
    }
    ticket?.laneSettled(run);
    for (let i = this.head; i < end; i++) {
      const item = this.queue[i];
      if (item.last) item.ticket.acked();
    }
    this.head = end;
    this.inFlight = 0;
    this.attempted = 0;
    this.compact();
    this.markUp();
    this.metrics.queueDepth(this.depth);
  }

  private postFailed(error: unknown): void {
    // Items of rejected tickets are the chain's again: drop them here instead of sending them twice.
    const end = this.head + this.inFlight;
    let kept = this.head;
    for (let i = this.head; i < end; i++) if (!this.queue[i].withdrawn) this.queue[kept++] = this.queue[i];
    if (kept < end) this.queue.splice(kept, end - kept);
    this.inFlight = 0;
    this.attempted = kept - this.head;
    if (this.closed) {
      // Cut by close(): whether the instance got them is unknown, and nothing will retry them.
      this.dropRange(this.head, this.queue.length, 'shutdown');
      return;
    }
    this.markDown(error);
    this.metrics.queueDepth(this.depth);
  }

  private refused(status: number): void {
    const end = this.head + this.inFlight;
    this.inFlight = 0;
    this.attempted = 0;
    const error = new Error(`${this.url.href} answered ${status} ${this.lastRefusal}`);
    // Dropped first: failing the tickets may withdraw envelopes, which must not shift the range.
    this.dropRange(this.head, end, 'rejected', error.message);
    this.markDown(error);
  }

  /**
   * POSTs the report of what was given up (an empty batch carrying `gaveUp`); true when the lane may go on. A 2xx
   * means the instance closed those clients. A refusal is final (an instance older than this publisher answers 400):
   * sending it again cannot help, and envelopes must not wait behind it, so it is logged and counted as refused.
   */
  private async sendReport(): Promise<boolean> {
    const report = this.report.take();
    let status: number;
    try {
      status = await this.post(report.body);
    } catch (error) {
      this.report.failed();
      this.markDown(error);
      return false;
    }
    const what = `${report.envelopes} envelopes given up for it (targets: ${report.targets})`;
    if (status >= 200 && status < 300) {
      this.report.delivered();
      this.metrics.gaveUpReported('told', report.envelopes);
      this.logger.warn(`${this.url.href}: reported ${what}; it closed those clients so they re-fetch`);
      this.markUp();
      return true;
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      this.report.delivered();
      this.metrics.gaveUpReported('refused', report.envelopes);
      this.logger.error(
        `${this.url.href} refused the report of ${what} (${status} ${this.lastRefusal}): its clients of those ` +
          'targets were not told to re-fetch. Is that gateway older than this publisher?',
      );
      return true;
    }
    this.report.failed();
    this.markDown(new Error(`${this.url.href} answered ${status} ${this.lastRefusal}`));
    return false;
  }

  /** POSTs one body; resolves with the status (a non-2xx answer's body is kept for the log). */
  private async post(body: string): Promise<number> {
    const abort = new AbortController();
    const timeoutMs = this.settings.timeoutMs;
    // Our own timer rather than undici's coarse ones: the timeout is what bounds a paused instance's cost.
    const timer = setTimeout(
      () => abort.abort(new Error(`POST ${this.url.href} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const response = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: this.headers,
        body,
        signal: abort.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      // Read the body to the end either way, so the connection goes back to the pool.
      const text = await response.body.text();
      if (response.statusCode >= 300) this.lastRefusal = text.slice(0, 200);
      return response.statusCode;
    } catch (error) {
      throw abort.signal.aborted ? abort.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async runProbe(): Promise<boolean> {
    const abort = new AbortController();
    const timeoutMs = this.settings.probeTimeoutMs;
    const timer = setTimeout(
      () => abort.abort(new Error(`GET ${this.url.origin}${this.healthPath} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const response = await this.pool.request({ path: this.healthPath, method: 'GET', signal: abort.signal });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`${this.url.origin}${this.healthPath} answered ${response.statusCode}`);
      }
      this.markUp();
      return true;
    } catch (error) {
      this.markDown(abort.signal.aborted ? abort.signal.reason : error);
      return false;
    } finally {
      clearTimeout(timer);
      this.expire(Date.now());
    }
  }

  private markUp(): void {
    this.seen = true;
    if (this.up) return;
    this.up = true;
    this.lastError = undefined;
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.metrics.up(true);
    const dropped = this.droppedWhileAway
      ? `; ${this.droppedWhileAway} envelopes were given up for it meanwhile (it is told first)`
      : '';
    this.logger.log(`${this.url.href} is back; sending it the ${this.depth} envelopes it missed${dropped}`);
    this.droppedWhileAway = 0;
    this.pump();
  }

  private markDown(error: unknown): void {
    const first = !this.seen;
    this.seen = true;
    this.lastError = errorMessage(error);
    if (this.closed) return;
    const wentDown = this.up;
    if (wentDown) {
      const message =
        `${this.url.href} failed: ${this.lastError}; skipping it until its health probe passes ` +
        `(it keeps up to ${this.settings.queueEnvelopes} envelopes for up to ${this.settings.retryMs} ms)`;
      // A gateway in this very process answers only once the HTTP server listens, after the first probe.
      if (first) this.logger.debug(message);
      else this.logger.warn(message);
      this.up = false;
      this.metrics.up(false);
      this.recoveryTimer = setInterval(() => void this.check(), this.settings.probeIntervalMs);
      this.recoveryTimer.unref();
    }
    // The tickets waiting on this lane must not wait for it any longer; the envelopes stay queued for a retry.
    this.failTickets(this.head, this.queue.length, this.lastError);
    if (wentDown) this.dropVolatile();
  }

  /** Volatile envelopes are never replayed: a lane that went down forgets those it has not sent yet. */
  private dropVolatile(): void {
    const start = this.droppableFrom;
    let kept = start;
    for (let i = start; i < this.queue.length; i++) {
      const item = this.queue[i];
      if (!item.outbound.envelope.volatile) this.queue[kept++] = item;
      else item.ticket.laneSettled(1); // nothing to tell: volatile envelopes may be dropped by design
    }
    const dropped = this.queue.length - kept;
    if (dropped === 0) return;
    // Their tickets no longer wait for this lane (markDown failed them first), so nothing else to settle.
    this.queue.length = kept;
    this.metrics.dropped('volatile', dropped);
    this.metrics.queueDepth(this.depth);
  }

  /** First index that expiry and overflow may drop: never what is in flight or was sent without an answer. */
  private get droppableFrom(): number {
    return this.head + Math.max(this.inFlight, this.attempted);
  }

  /**
   * Gives up envelopes that waited longer than `retryMs` and were never sent, while the instance is down only: once
   * it answers again, what is left goes out in order. Expiring the backlog as it drains would cut new holes behind
   * the report, each one more close for the same clients; an instance that is up but slow is bounded by
   * `queueEnvelopes`, and one that stops answering goes down at its POST timeout.
   */
  private expire(now: number): void {
    if (this.up) return;
    const cutoff = now - this.settings.retryMs;
    const start = this.droppableFrom;
    let end = start;
    while (end < this.queue.length && this.queue[end].queuedAt < cutoff) end++;
    if (end > start) this.dropRange(start, end, 'expired');
  }

  /** Drops the oldest `count` envelopes never sent. */
  private dropQueued(count: number, reason: LaneDropReason): void {
    const start = this.droppableFrom;
    this.dropRange(start, Math.min(this.queue.length, start + count), reason);
  }

  private dropRange(start: number, end: number, reason: LaneDropReason, why?: string): void {
    const removed = this.queue.splice(start, end - start);
    if (removed.length === 0) return;
    this.metrics.dropped(reason, removed.length);
    this.metrics.queueDepth(this.depth);
    if (reason === 'shutdown') {
      for (const item of removed) item.ticket.abandoned();
    } else {
      for (const item of removed) this.report.add(item.outbound, item.ticket);
    }
    if (this.droppedWhileAway === 0 && reason !== 'shutdown') {
      const cause =
        reason === 'expired'
          ? `they waited longer than ${this.settings.retryMs} ms`
          : reason === 'overflow'
            ? `it is more than ${this.settings.queueEnvelopes} envelopes behind`
            : `it refused them: ${why}`;
      this.logger.warn(
        `${this.url.href}: giving up envelopes for this instance (${cause}); it is told which targets, before ` +
          'anything later, and closes those clients so they re-fetch',
      );
    }
    this.droppedWhileAway += removed.length;
    const reasonText = why ?? `${this.url.href} dropped the batch (${reason})`;
    let previous: BridgeTicket<HttpBridgeLane> | undefined;
    for (const item of removed) {
      if (item.ticket === previous) continue;
      previous = item.ticket;
      item.ticket.laneFailed(this, reasonText);
    }
    this.notifyDrained();
  }

  private failTickets(start: number, end: number, reason: string): void {
    // Collected first: a rejected ticket withdraws its envelopes from the queue being walked.
    const tickets = new Set<BridgeTicket<HttpBridgeLane>>();
    for (let i = start; i < end; i++) tickets.add(this.queue[i].ticket);
    for (const ticket of tickets) ticket.laneFailed(this, `${this.url.href}: ${reason}`);
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private get drained(): boolean {
    return this.depth === 0 && !this.sending && !this.report.pending;
  }

  private notifyDrained(): void {
    if (!this.drained) return;
    this.drainWaiters.splice(0).forEach((resolve) => resolve());
  }
}
