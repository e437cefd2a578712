import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { GaveUpReport, type GaveUpReportBody } from './http-bridge.gave-up';
import type { HttpBridgeLaneMetrics, LaneDropReason } from './http-bridge.metrics';

/** What the queue needs of a `BridgeTicket`. */
export interface LaneTicket<Lane> {
  queued(count: number): void;
  laneSettled(count: number): void;
  acked(): void;
  laneFailed(lane: Lane, reason: string): void;
  abandoned(): void;
}

export interface LaneQueueLimits {
  /** Largest request body; a longer queue goes out in several POSTs, in order. */
  maxBodyBytes: number;
  /** Envelopes queued at most; past it the oldest are given up for the instance (and it is told). */
  queueEnvelopes: number;
  /** Time an envelope may wait while the instance is down before it is given up for it (and it is told). */
  retryMs: number;
}

export interface LaneQueueEvents {
  /** `count` envelopes were given up (or dropped at shutdown), before their tickets hear of it. */
  gaveUp(reason: LaneDropReason, count: number, why?: string): void;
  /** Something left the queue: the lane may be drained now. */
  changed(): void;
}

/** The next POST: the report of what was given up, or a batch of envelopes (one JSON array). */
export type LanePost = { report: GaveUpReportBody; body?: never } | { body: string; report?: never };

interface LaneItem<Lane> {
  readonly outbound: OutboundEnvelope;
  readonly queuedAt: number;
  readonly ticket: LaneTicket<Lane>;
  /** The last envelope of its ticket's batch: delivering it completes the batch on this lane. */
  readonly last: boolean;
  /** The ticket was rejected while this item was in flight: the chain sends it again, so never retry it here. */
  withdrawn: boolean;
}

/**
 * What one bridge lane holds for its gateway instance and what goes in its next POST, without any HTTP or timer
 * (time is passed in), so its rules are tested on their own: order kept, one request body at most in flight, the
 * report of what was given up sent before anything queued after it, and nothing given up silently. The lane does
 * the requests and tells it how each one went.
 */
export class LaneQueue<Lane extends object> {
  /**
   * Items from `head` on are queued; the first `inFlight` of them are in the current POST, and the first `attempted`
   * were sent before without an answer. The instance may have those (a paused process handles the request when it
   * resumes), so they are never given up as expired or overflow, only retried: a drop is then counted only for
   * envelopes the instance certainly never got. They stay bounded by one request body.
   */
  private queue: LaneItem<Lane>[] = [];
  private head = 0;
  private inFlight = 0;
  private attempted = 0;
  /** What was given up for the instance and not told to it yet. */
  private readonly report: GaveUpReport<LaneTicket<Lane>>;

  constructor(
    /** The lane its tickets wait for. */
    private readonly lane: Lane,
    /** The instance's URL, for the reasons tickets are failed with. */
    private readonly name: string,
    private readonly limits: LaneQueueLimits,
    private readonly metrics: HttpBridgeLaneMetrics,
    private readonly events: LaneQueueEvents,
  ) {
    this.report = new GaveUpReport(limits.queueEnvelopes);
  }

  /** Envelopes queued for this instance, the ones in flight included. */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Envelopes in the current POST. */
  get sending(): number {
    return this.inFlight;
  }

  /** Nothing queued, in flight, or given up and not reported (a report on its way aside). */
  get idle(): boolean {
    return this.depth === 0 && !this.report.pending;
  }

  /**
   * Queues a batch behind what the queue already holds. For a down instance it takes only durable envelopes:
   * volatile ones (typing) are never replayed, so they are dropped for it at once; and what waited too long goes.
   */
  enqueue(batch: readonly OutboundEnvelope[], ticket: LaneTicket<Lane>, now: number, up: boolean): void {
    let end = batch.length;
    if (!up) {
      let skipped = 0;
      while (end > 0 && batch[end - 1].envelope.volatile) end--;
      for (let i = 0; i < end; i++) if (batch[i].envelope.volatile) skipped++;
      skipped += batch.length - end;
      if (skipped > 0) this.metrics.dropped('volatile', skipped);
    }
    let queued = 0;
    for (let i = 0; i < end; i++) {
      const outbound = batch[i];
      if (!up && outbound.envelope.volatile) continue;
      this.queue.push({ outbound, queuedAt: now, ticket, last: i === end - 1, withdrawn: false });
      queued++;
    }
    ticket.queued(queued);
    if (!up) this.expire(now);
    const over = this.depth - this.limits.queueEnvelopes;
    if (over > 0) this.dropQueued(over, 'overflow');
    this.metrics.queueDepth(this.depth);
  }

  /** The ticket was rejected: the chain will send its envelopes again, so forget those not in flight. */
  withdraw(ticket: LaneTicket<Lane>): void {
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
    this.events.changed();
  }

  /**
   * What to POST next, or undefined when nothing waits. The report goes before anything queued after what it covers,
   * so the instance closes those clients before they see past the hole; what was sent before without an answer is
   * older than the hole and goes first.
   */
  next(): LanePost | undefined {
    if (this.report.pending && this.attempted === 0) return { report: this.report.take() };
    const body = this.takeBatch();
    return body === undefined ? undefined : { body };
  }

  /** The instance took the batch in flight. */
  delivered(): void {
    const end = this.head + this.inFlight;
    // Settled per run of one ticket's items (a batch's envelopes sit together in the queue), before the tickets are
    // acknowledged: a ticket every lane is done with needs no tracking after its acknowledgement.
    let ticket: LaneTicket<Lane> | undefined;
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
    this.metrics.queueDepth(this.depth);
  }

  /** The batch in flight got no answer: it is kept, first in line, to be sent again. */
  failed(): void {
    // Items of rejected tickets are the chain's again: drop them here instead of sending them twice.
    const end = this.head + this.inFlight;
    let kept = this.head;
    for (let i = this.head; i < end; i++) if (!this.queue[i].withdrawn) this.queue[kept++] = this.queue[i];
    if (kept < end) this.queue.splice(kept, end - kept);
    this.inFlight = 0;
    this.attempted = kept - this.head;
    this.metrics.queueDepth(this.depth);
  }

  /** The instance refused the batch in flight for good: it is given up (and the instance told). */
  refused(why: string): void {
    const end = this.head + this.inFlight;
    this.inFlight = 0;
    this.attempted = 0;
    this.dropRange(this.head, end, 'rejected', why);
  }

  /** The instance has the report (or refused it for good): its envelopes are settled for this lane. */
  reportDelivered(): void {
    this.report.delivered();
  }

  /** The report got no answer: it goes again, merged with what was given up meanwhile. */
  reportFailed(): void {
    this.report.failed();
  }

  /**
   * Gives up envelopes that waited longer than `retryMs` and were never sent. Called while the instance is down
   * only: once it answers again, what is left goes out in order. Expiring the backlog as it drains would cut new
   * holes behind the report, each one more close for the same clients; an instance that is up but slow is bounded
   * by `queueEnvelopes`, and one that stops answering goes down at its POST timeout.
   */
  expire(now: number): void {
    const cutoff = now - this.limits.retryMs;
    const start = this.droppableFrom;
    let end = start;
    while (end < this.queue.length && this.queue[end].queuedAt < cutoff) end++;
    if (end > start) this.dropRange(start, end, 'expired');
  }

  /** The instance went down: the tickets waiting on it must not wait any longer; the envelopes stay for a retry. */
  failTickets(reason: string): void {
    // Collected first: a rejected ticket withdraws its envelopes from the queue being walked.
    const tickets = new Set<LaneTicket<Lane>>();
    for (let i = this.head; i < this.queue.length; i++) tickets.add(this.queue[i].ticket);
    for (const ticket of tickets) ticket.laneFailed(this.lane, reason);
  }

  /** Volatile envelopes are never replayed: a lane that went down forgets those it has not sent yet. */
  dropVolatile(): void {
    const start = this.droppableFrom;
    let kept = start;
    for (let i = start; i < this.queue.length; i++) {
      const item = this.queue[i];
      if (!item.outbound.envelope.volatile) this.queue[kept++] = item;
      else item.ticket.laneSettled(1); // nothing to tell: volatile envelopes may be dropped by design
    }
    const dropped = this.queue.length - kept;
    if (dropped === 0) return;
    // Their tickets no longer wait for this lane (failTickets failed them first), so nothing else to settle.
    this.queue.length = kept;
    this.metrics.dropped('volatile', dropped);
    this.metrics.queueDepth(this.depth);
  }

  /** Drops what is not in flight, counted as `shutdown`: its tickets are never settled. Returns how many. */
  shutdown(): number {
    const waiting = this.depth - this.inFlight;
    if (waiting > 0) this.dropRange(this.head + this.inFlight, this.queue.length, 'shutdown');
    return waiting;
  }

  /**
   * Shutdown: what was given up and not reported stays untold, its tickets never settled (the outbox keeps those
   * records). Returns how many envelopes that is.
   */
  abandonReport(): number {
    return this.report.abandon();
  }

  /** First index that expiry and overflow may drop: never what is in flight or was sent without an answer. */
  private get droppableFrom(): number {
    return this.head + Math.max(this.inFlight, this.attempted);
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
      if (parts.length > 0 && size + length + 1 > this.limits.maxBodyBytes) break;
      parts.push(json);
      size += length + 1;
    }
    this.inFlight = i - this.head;
    return '[' + parts.join(',') + ']';
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
    this.events.gaveUp(reason, removed.length, why);
    let previous: LaneTicket<Lane> | undefined;
    for (const item of removed) {
      if (item.ticket === previous) continue;
      previous = item.ticket;
      item.ticket.laneFailed(this.lane, why ?? `${this.name} dropped the batch (${reason})`);
    }
    this.events.changed();
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
}
