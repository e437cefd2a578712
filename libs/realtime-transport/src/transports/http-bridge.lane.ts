import { Logger } from '@nestjs/common';
import { Pool } from 'undici';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { errorMessage, redactUrl } from '@realtime-streams/common';
import type { GaveUpReportBody } from './http-bridge.gave-up';
import { LaneQueue } from './http-bridge.lane-queue';
import type { HttpBridgeLaneMetrics, LaneDropReason } from './http-bridge.metrics';
import type { BridgeTicket } from './http-bridge.ticket';
import { RecoveryProbe } from './recovery-probe';

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

/**
 * One gateway instance behind the HTTP bridge: a keep-alive pool to it and a queue of its own (`LaneQueue`). The
 * lane POSTs its queue in order, one request at a time (so it never reorders a room's envelopes), with its own
 * timeout; a slow or paused instance therefore delays only its own clients. When a POST fails the lane is marked
 * down and keeps what it missed: it is skipped until its health probe passes (`RecoveryProbe`), then sends the same
 * envelopes again (the gateway dedups by id). What waits longer than `retryMs`, or beyond `queueEnvelopes`, or what
 * the instance refused, is given up for this instance, counted, and never silently: the targets go in a report
 * (`GaveUpReport`) POSTed before anything queued after them, and the instance closes those clients with the
 * reconnectable "missed messages" close, so they re-fetch from before the hole. Only volatile envelopes (typing)
 * are dropped without a word: they are never replayed.
 */
export class HttpBridgeLane {
  private readonly logger = new Logger('HttpBridgeTransport');
  private readonly pool: Pool;
  private readonly path: string;
  private readonly healthPath: string;
  private readonly headers: Record<string, string>;
  private readonly queue: LaneQueue<HttpBridgeLane>;
  private readonly availability: RecoveryProbe;
  private sending = false;
  private closed = false;
  private readonly drainWaiters: Array<() => void> = [];
  /** Dropped during the current outage, for the "is back" log line. */
  private droppedWhileAway = 0;
  private lastRefusal = '';
  /** The instance's URL as logs, errors, health and metric labels show it: credentials redacted. */
  readonly url: URL;
  readonly name: string;
  private readonly healthName: string;
  /** Whether any request or probe has had an answer yet (the first may come before the gateway listens). */
  seen = false;
  lastError?: string;

  constructor(
    url: URL,
    healthUrl: URL,
    private readonly settings: HttpBridgeLaneSettings,
    private readonly metrics: HttpBridgeLaneMetrics,
  ) {
    this.url = new URL(redactUrl(url.href));
    this.name = this.url.href;
    this.healthName = redactUrl(`${url.origin}${healthUrl.pathname}${healthUrl.search}`);
    if (healthUrl.origin !== url.origin) {
      throw new Error(`HTTP bridge health URL ${redactUrl(healthUrl.href)} must be on the same origin as ${this.name}`);
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
    this.queue = new LaneQueue(this, this.name, settings, metrics, {
      gaveUp: (reason, count, why) => this.gaveUp(reason, count, why),
      changed: () => this.notifyDrained(),
    });
    // Probe outcomes go through markUp/markDown: a failure does more here than take the lane down. After a failed
    // probe, what waited too long for the instance is given up (expiry runs only while it is down).
    this.availability = new RecoveryProbe({
      intervalMs: settings.probeIntervalMs,
      probe: () => this.probeHealth(),
      outcome: {
        passed: () => this.markUp(),
        failed: (error) => {
          this.markDown(error);
          if (!this.up) this.queue.expire(Date.now());
        },
      },
    });
    metrics.up(true);
    metrics.queueDepth(0);
  }

  /** Whether the instance answered its last request or probe. */
  get up(): boolean {
    return !this.availability.isDown;
  }

  /** Envelopes queued for this instance, the ones in flight included. */
  get depth(): number {
    return this.queue.depth;
  }

  /**
   * Queues a batch behind what the lane already holds and starts sending when the lane is up and idle. A down lane
   * takes only durable envelopes: volatile ones (typing) are never replayed, so they are dropped for it at once.
   */
  enqueue(batch: readonly OutboundEnvelope[], ticket: BridgeTicket<HttpBridgeLane>, now: number): void {
    this.queue.enqueue(batch, ticket, now, this.up);
    this.pump();
  }

  /** The ticket was rejected: the chain will send its envelopes again, so forget those not in flight. */
  withdraw(ticket: BridgeTicket<HttpBridgeLane>): void {
    this.queue.withdraw(ticket);
  }

  /**
   * Probes the instance (never two probes at once) and marks the lane up or down; resolves with the outcome.
   * A passing probe restarts the sending of what the lane kept.
   */
  check(): Promise<boolean> {
    return this.availability.check();
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
    this.availability.close();
    const busy = this.sending;
    const waiting = this.queue.shutdown();
    if (waiting > 0) {
      this.logger.warn(`${this.name}: ${waiting} envelopes not delivered to this instance before shutdown`);
    }
    const untold = this.queue.abandonReport();
    if (untold > 0) {
      this.metrics.gaveUpReported('shutdown', untold);
      this.logger.error(
        `${this.name}: ${untold} envelopes given up for this instance were never reported to it (unreachable ` +
          'until shutdown): its clients of those targets are not told; outboxed ones are sent again at the next start',
      );
    }
    this.notifyDrained();
    await (busy ? this.pool.destroy() : this.pool.close()).catch(() => undefined);
  }

  private pump(): void {
    if (this.sending || !this.up || this.closed || this.queue.idle) return;
    this.sending = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.up && !this.closed) {
        const next = this.queue.next();
        if (next === undefined) break;
        if (next.report) {
          if (!(await this.sendReport(next.report))) break;
          continue;
        }
        let status: number;
        try {
          status = await this.post(next.body);
        } catch (error) {
          this.postFailed(error);
          break;
        }
        if (status >= 200 && status < 300) {
          this.queue.delivered();
          this.markUp();
        } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          // The instance refused this batch for good (bad secret, too large, invalid): sending it again cannot help.
          const error = new Error(`${this.name} answered ${status} ${this.lastRefusal}`);
          // Dropped first: failing the tickets may withdraw envelopes, which must not shift the range.
          this.queue.refused(error.message);
          this.markDown(error);
          break;
        } else {
          this.postFailed(new Error(`${this.name} answered ${status} ${this.lastRefusal}`));
          break;
        }
      }
    } finally {
      this.sending = false;
      this.notifyDrained();
    }
  }

  private postFailed(error: unknown): void {
    this.queue.failed();
    if (this.closed) {
      // Cut by close(): whether the instance got them is unknown, and nothing will retry them.
      this.queue.shutdown();
      return;
    }
    this.markDown(error);
  }

  /**
   * POSTs the report of what was given up (an empty batch carrying `gaveUp`); true when the lane may go on. A 2xx
   * means the instance closed those clients. A refusal is final (an instance older than this publisher answers 400):
   * sending it again cannot help, and envelopes must not wait behind it, so it is logged and counted as refused.
   */
  private async sendReport(report: GaveUpReportBody): Promise<boolean> {
    let status: number;
    try {
      status = await this.post(report.body);
    } catch (error) {
      this.queue.reportFailed();
      this.markDown(error);
      return false;
    }
    const what = `${report.envelopes} envelopes given up for it (targets: ${report.targets})`;
    if (status >= 200 && status < 300) {
      this.queue.reportDelivered();
      this.metrics.gaveUpReported('told', report.envelopes);
      this.logger.warn(`${this.name}: reported ${what}; it closed those clients so they re-fetch`);
      this.markUp();
      return true;
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      this.queue.reportDelivered();
      this.metrics.gaveUpReported('refused', report.envelopes);
      this.logger.error(
        `${this.name} refused the report of ${what} (${status} ${this.lastRefusal}): its clients of those ` +
          'targets were not told to re-fetch. Is that gateway older than this publisher?',
      );
      return true;
    }
    this.queue.reportFailed();
    this.markDown(new Error(`${this.name} answered ${status} ${this.lastRefusal}`));
    return false;
  }

  /** POSTs one body; resolves with the status (a non-2xx answer's body is kept for the log). */
  private async post(body: string): Promise<number> {
    const abort = new AbortController();
    const timeoutMs = this.settings.timeoutMs;
    // Our own timer rather than undici's coarse ones: the timeout is what bounds a paused instance's cost.
    const timer = setTimeout(
      () => abort.abort(new Error(`POST ${this.name} timed out after ${timeoutMs} ms`)),
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

  /** GETs the health URL; rejects unless it answers 2xx in time. */
  private async probeHealth(): Promise<void> {
    const abort = new AbortController();
    const timeoutMs = this.settings.probeTimeoutMs;
    const timer = setTimeout(
      () => abort.abort(new Error(`GET ${this.healthName} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const response = await this.pool.request({ path: this.healthPath, method: 'GET', signal: abort.signal });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`${this.healthName} answered ${response.statusCode}`);
      }
    } catch (error) {
      throw abort.signal.aborted ? abort.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  private markUp(): void {
    this.seen = true;
    if (!this.availability.markUp()) return;
    this.lastError = undefined;
    this.metrics.up(true);
    const dropped = this.droppedWhileAway
      ? `; ${this.droppedWhileAway} envelopes were given up for it meanwhile (it is told first)`
      : '';
    this.logger.log(`${this.name} is back; sending it the ${this.depth} envelopes it missed${dropped}`);
    this.droppedWhileAway = 0;
    this.pump();
  }

  private markDown(error: unknown): void {
    const first = !this.seen;
    this.seen = true;
    this.lastError = errorMessage(error);
    if (this.closed) return;
    const wentDown = this.availability.markDown(error);
    if (wentDown) {
      const message =
        `${this.name} failed: ${this.lastError}; skipping it until its health probe passes ` +
        `(it keeps up to ${this.settings.queueEnvelopes} envelopes for up to ${this.settings.retryMs} ms)`;
      // A gateway in this very process answers only once the HTTP server listens, after the first probe.
      if (first) this.logger.debug(message);
      else this.logger.warn(message);
      this.metrics.up(false);
    }
    // The tickets waiting on this lane must not wait for it any longer; the envelopes stay queued for a retry.
    this.queue.failTickets(`${this.name}: ${this.lastError}`);
    if (wentDown) this.queue.dropVolatile();
  }

  /** The queue gave envelopes up: the first of an outage is logged, all are counted for the "is back" line. */
  private gaveUp(reason: LaneDropReason, count: number, why?: string): void {
    if (this.droppedWhileAway === 0 && reason !== 'shutdown') {
      const cause =
        reason === 'expired'
          ? `they waited longer than ${this.settings.retryMs} ms`
          : reason === 'overflow'
            ? `it is more than ${this.settings.queueEnvelopes} envelopes behind`
            : `it refused them: ${why}`;
      this.logger.warn(
        `${this.name}: giving up envelopes for this instance (${cause}); it is told which targets, before ` +
          'anything later, and closes those clients so they re-fetch',
      );
    }
    this.droppedWhileAway += count;
  }

  private get drained(): boolean {
    return this.queue.idle && !this.sending;
  }

  private notifyDrained(): void {
    if (!this.drained) return;
    this.drainWaiters.splice(0).forEach((resolve) => resolve());
  }
}
