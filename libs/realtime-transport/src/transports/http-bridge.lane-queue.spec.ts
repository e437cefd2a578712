import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { outbound } from '../testing/outbound.fixture';
import { LaneQueue, type LanePost, type LaneTicket } from './http-bridge.lane-queue';
import type { HttpBridgeLaneMetrics, LaneDropReason } from './http-bridge.metrics';

const LANE = { name: 'lane' };
type Lane = typeof LANE;

/** A BridgeTicket stand-in that records what the queue tells it. */
class Ticket implements LaneTicket<Lane> {
  queuedCount = 0;
  settled = 0;
  acks = 0;
  failures: string[] = [];
  abandons = 0;
  /** Called when the lane fails it, like a BridgeTicket rejected and withdrawn everywhere. */
  onFailed?: () => void;
  queued(count: number): void {
    this.queuedCount += count;
  }
  laneSettled(count: number): void {
    this.settled += count;
  }
  acked(): void {
    this.acks++;
  }
  laneFailed(lane: Lane, reason: string): void {
    expect(lane).toBe(LANE);
    this.failures.push(reason);
    this.onFailed?.();
  }
  abandoned(): void {
    this.abandons++;
  }
}

function setUp(limits: Partial<{ maxBodyBytes: number; queueEnvelopes: number; retryMs: number }> = {}) {
  const dropped: Record<string, number> = {};
  const depths: number[] = [];
  const gaveUp: Array<[LaneDropReason, number, string | undefined]> = [];
  let changes = 0;
  const metrics: HttpBridgeLaneMetrics = {
    queueDepth: (depth) => depths.push(depth),
    dropped: (reason, count) => (dropped[reason] = (dropped[reason] ?? 0) + count),
    up: () => undefined,
    gaveUpReported: () => undefined,
  };
  const queue = new LaneQueue(
    LANE,
    'http://gw-1/bridge',
    { maxBodyBytes: 1_000_000, queueEnvelopes: 100, retryMs: 1000, ...limits },
    metrics,
    { gaveUp: (reason, count, why) => gaveUp.push([reason, count, why]), changed: () => changes++ },
  );
  return { queue, dropped, depths, gaveUp, changes: () => changes };
}

const batchOf = (n: number, volatile = false) =>
  Array.from({ length: n }, (_, i) => outbound({ kind: 'group', name: `room:${i % 2}` }, volatile));
const idsOf = (post: LanePost | undefined) =>
  (JSON.parse(post?.body ?? 'null') as Array<{ id: string }>).map((envelope) => envelope.id);
const ids = (batch: readonly OutboundEnvelope[]) => batch.map((o) => o.envelope.id);
const gaveUpOf = (post: LanePost | undefined) => (JSON.parse(post!.report!.body) as { gaveUp: unknown[] }).gaveUp;

describe('LaneQueue', () => {
  it('sends what it holds in order, one body at a time, and settles and acknowledges a batch once delivered', () => {
    const { queue, depths } = setUp();
    const first = batchOf(3);
    const second = batchOf(2);
    const [a, b] = [new Ticket(), new Ticket()];
    queue.enqueue(first, a, 0, true);
    queue.enqueue(second, b, 0, true);
    expect([a.queuedCount, b.queuedCount, queue.depth]).toEqual([3, 2, 5]);
    expect(queue.idle).toBe(false);

    const post = queue.next();
    expect(post?.report).toBeUndefined();
    expect(idsOf(post)).toEqual([...ids(first), ...ids(second)]);
    expect(queue.sending).toBe(5);
    queue.delivered();
    expect([a.settled, a.acks, b.settled, b.acks]).toEqual([3, 1, 2, 1]);
    expect(queue.depth).toBe(0);
    expect(queue.idle).toBe(true);
    expect(depths.at(-1)).toBe(0);
    expect(queue.next()).toBeUndefined();
  });

  it('splits a long queue by maxBodyBytes (worst case 3 bytes a character), always at least one envelope', () => {
    const batch = batchOf(5);
    const oneSize = batch[0].json.length * 3 + 1;
    const { queue } = setUp({ maxBodyBytes: 2 + oneSize * 2 });
    const ticket = new Ticket();
    queue.enqueue(batch, ticket, 0, true);
    const sent: string[] = [];
    for (let post = queue.next(); post; post = queue.next()) {
      const postIds = idsOf(post);
      expect(postIds.length).toBeLessThanOrEqual(2);
      sent.push(...postIds);
      queue.delivered();
    }
    expect(sent).toEqual(ids(batch));
    expect(ticket.acks).toBe(1);

    const tiny = setUp({ maxBodyBytes: 10 });
    tiny.queue.enqueue(batchOf(2), new Ticket(), 0, true);
    expect(idsOf(tiny.queue.next())).toHaveLength(1);
  });

  it('acknowledges a ticket only with the last envelope of its batch', () => {
    const batch = batchOf(3);
    const { queue } = setUp({ maxBodyBytes: 2 + (batch[0].json.length * 3 + 1) * 2 });
    const ticket = new Ticket();
    queue.enqueue(batch, ticket, 0, true);
    queue.next();
    queue.delivered();
    expect([ticket.settled, ticket.acks]).toEqual([2, 0]);
    queue.next();
    queue.delivered();
    expect([ticket.settled, ticket.acks]).toEqual([3, 1]);
  });

  it('keeps a failed batch first in line and sends it again, never expiring or overflowing it', () => {
    const { queue, dropped } = setUp({ queueEnvelopes: 3, retryMs: 1000 });
    const sent = batchOf(2);
    queue.enqueue(sent, new Ticket(), 0, true);
    queue.next();
    queue.failed();
    expect(queue.depth).toBe(2);
    // Down: later envelopes come and go, the two the instance may have stay.
    const later = batchOf(3);
    queue.enqueue(later, new Ticket(), 10, false);
    expect(dropped.overflow).toBe(2);
    queue.expire(5000);
    expect(dropped.expired).toBe(1);
    expect(queue.depth).toBe(2);
    // What was sent before without an answer goes before the report of the hole behind it.
    expect(idsOf(queue.next())).toEqual(ids(sent));
    queue.delivered();
    expect(gaveUpOf(queue.next())).toEqual([
      { kind: 'group', name: 'room:0' },
      { kind: 'group', name: 'room:1' },
    ]);
  });

  it('expires only what waited longer than retryMs, reports it before anything queued after it', () => {
    const { queue, dropped, gaveUp } = setUp({ retryMs: 1000 });
    const old = batchOf(2);
    const recent = batchOf(1);
    const [a, b] = [new Ticket(), new Ticket()];
    queue.enqueue(old, a, 0, false);
    queue.enqueue(recent, b, 600, false);
    queue.expire(1000);
    expect(dropped.expired).toBeUndefined();
    queue.expire(1001);
    expect(dropped.expired).toBe(2);
    expect(gaveUp).toEqual([['expired', 2, undefined]]);
    expect(a.failures).toEqual(['http://gw-1/bridge dropped the batch (expired)']);
    expect(queue.depth).toBe(1);

    const report = queue.next();
    expect(report?.report).toMatchObject({ envelopes: 2, targets: 2 });
    // The report holds the tickets of what it covers until the instance has it.
    expect(a.settled).toBe(0);
    queue.reportDelivered();
    expect(a.settled).toBe(2);
    expect(idsOf(queue.next())).toEqual(ids(recent));
  });

  it('expires while enqueuing only for a down instance', () => {
    const up = setUp({ retryMs: 100 });
    up.queue.enqueue(batchOf(1), new Ticket(), 0, true);
    up.queue.enqueue(batchOf(1), new Ticket(), 500, true);
    expect(up.dropped.expired).toBeUndefined();

    const down = setUp({ retryMs: 100 });
    down.queue.enqueue(batchOf(1), new Ticket(), 0, false);
    down.queue.enqueue(batchOf(1), new Ticket(), 500, false);
    expect(down.dropped.expired).toBe(1);
    expect(down.queue.depth).toBe(1);
  });

  it('drops the oldest never sent past queueEnvelopes, told in the report', () => {
    const { queue, dropped, gaveUp } = setUp({ queueEnvelopes: 3 });
    const first = batchOf(2);
    const second = batchOf(2);
    queue.enqueue(first, new Ticket(), 0, true);
    queue.enqueue(second, new Ticket(), 0, true);
    expect(dropped.overflow).toBe(1);
    expect(gaveUp[0][0]).toBe('overflow');
    expect(queue.depth).toBe(3);
    expect(queue.next()?.report).toMatchObject({ envelopes: 1 });
    queue.reportDelivered();
    expect(idsOf(queue.next())).toEqual([...ids(first).slice(1), ...ids(second)]);
  });

  it('a report that got no answer goes again, merged with what was given up meanwhile', () => {
    const { queue } = setUp({ queueEnvelopes: 1 });
    queue.enqueue(batchOf(2), new Ticket(), 0, true);
    expect(queue.next()?.report).toMatchObject({ envelopes: 1 });
    queue.enqueue(batchOf(1), new Ticket(), 0, true);
    queue.reportFailed();
    expect(queue.next()?.report).toMatchObject({ envelopes: 2 });
  });

  it('drops volatile envelopes for a down instance, and those unsent when it goes down', () => {
    const down = setUp();
    const ticket = new Ticket();
    const mixed = [outbound(undefined, true), outbound(), outbound(undefined, true)];
    down.queue.enqueue(mixed, ticket, 0, false);
    expect(down.dropped.volatile).toBe(2);
    expect(ticket.queuedCount).toBe(1);
    expect(idsOf(down.queue.next())).toEqual([mixed[1].envelope.id]);
    down.queue.delivered();
    // The durable one is the last queued: it completes the batch on this lane.
    expect(ticket.acks).toBe(1);

    const up = setUp();
    const typing = new Ticket();
    up.queue.enqueue([outbound()], new Ticket(), 0, true);
    up.queue.next();
    up.queue.enqueue([outbound(undefined, true), outbound()], typing, 0, true);
    up.queue.failed();
    up.queue.dropVolatile();
    expect(up.dropped.volatile).toBe(1);
    expect(typing.settled).toBe(1);
    expect(up.queue.depth).toBe(2);
    // Volatile drops are never reported.
    expect(up.queue.next()?.report).toBeUndefined();
  });

  it('gives up a refused batch for good, with the reason, and reports it', () => {
    const { queue, dropped, gaveUp } = setUp();
    const ticket = new Ticket();
    queue.enqueue(batchOf(2), ticket, 0, true);
    queue.next();
    queue.refused('http://gw-1/bridge answered 413 too large');
    expect(dropped.rejected).toBe(2);
    expect(gaveUp).toEqual([['rejected', 2, 'http://gw-1/bridge answered 413 too large']]);
    expect(ticket.failures).toEqual(['http://gw-1/bridge answered 413 too large']);
    expect(queue.depth).toBe(0);
    expect(queue.next()?.report).toMatchObject({ envelopes: 2 });
  });

  it('fails every ticket it holds once when the instance goes down, and keeps their envelopes', () => {
    const { queue } = setUp();
    const [a, b] = [new Ticket(), new Ticket()];
    queue.enqueue(batchOf(2), a, 0, true);
    queue.enqueue(batchOf(1), b, 0, true);
    queue.failTickets('http://gw-1/bridge: ECONNREFUSED');
    expect([a.failures, b.failures]).toEqual([
      ['http://gw-1/bridge: ECONNREFUSED'],
      ['http://gw-1/bridge: ECONNREFUSED'],
    ]);
    expect(queue.depth).toBe(3);
  });

  it('forgets a withdrawn ticket: at once when waiting, after its POST when in flight', () => {
    const { queue, changes } = setUp();
    const [a, b, c] = [new Ticket(), new Ticket(), new Ticket()];
    const inFlight = batchOf(1);
    const kept = batchOf(1);
    queue.enqueue(inFlight, a, 0, true);
    queue.next();
    queue.enqueue(batchOf(2), b, 0, true);
    queue.enqueue(kept, c, 0, true);
    queue.withdraw(b);
    expect(queue.depth).toBe(2);
    expect(changes()).toBe(1);
    queue.withdraw(a);
    expect(queue.depth).toBe(2);
    // The instance may have it: only a failure forgets it, instead of sending it twice.
    queue.failed();
    expect(queue.depth).toBe(1);
    expect(idsOf(queue.next())).toEqual(ids(kept));
  });

  it('walks a consistent queue when failing a ticket withdraws its envelopes', () => {
    const { queue } = setUp();
    const [a, b] = [new Ticket(), new Ticket()];
    queue.enqueue(batchOf(1), a, 0, true);
    queue.enqueue(batchOf(1), b, 0, true);
    a.onFailed = () => queue.withdraw(a);
    queue.failTickets('down');
    expect(b.failures).toEqual(['down']);
    expect(queue.depth).toBe(1);
  });

  it('at shutdown drops what is not in flight (its tickets abandoned) and abandons the untold report', () => {
    const { queue, dropped, gaveUp } = setUp({ queueEnvelopes: 2 });
    const [a, b] = [new Ticket(), new Ticket()];
    queue.enqueue(batchOf(1), a, 0, true);
    queue.next();
    queue.enqueue(batchOf(2), b, 0, true);
    expect(dropped.overflow).toBe(1);
    expect(queue.shutdown()).toBe(1);
    expect(dropped.shutdown).toBe(1);
    expect(gaveUp.at(-1)).toEqual(['shutdown', 1, undefined]);
    expect(b.abandons).toBe(1);
    expect(queue.depth).toBe(1);
    expect(queue.abandonReport()).toBe(1);
    expect(b.abandons).toBe(2);
    expect(queue.idle).toBe(false);
    queue.failed();
    expect(queue.shutdown()).toBe(1);
    expect(a.abandons).toBe(1);
    expect(queue.idle).toBe(true);
  });
});
