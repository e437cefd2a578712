import { outbound } from '../testing/outbound.fixture';
import { type Dispatch, EnvelopeLedger, type EnvelopeLedgerSettings } from './envelope-ledger';
import type { BufferEntry } from './pending-buffer';

type Destination = 'redis' | 'http';
const REDIS_BIT = 1;

const settings: EnvelopeLedgerSettings = {
  bufferCapacity: 10,
  maxAttemptsPerEnvelope: 2,
  replayWindowMs: 1000,
  stalledRetryMs: 100,
};
const room = (name: string) => ({ kind: 'group' as const, name });

describe('EnvelopeLedger', () => {
  let drops: string[];
  let replays: Array<[string, number]>;
  let acknowledged: string[];
  let deferred: Array<[string, string]>;
  let ledger: EnvelopeLedger;
  let clock: number;

  const toRedis: Dispatch<Destination> = (_entry, sendTo) => sendTo('redis');
  const takeOne = (dispatch: Dispatch<Destination> = toRedis): BufferEntry => {
    const batch = ledger.takeBatches(100, dispatch).get('redis')!;
    expect(batch).toHaveLength(1);
    return batch[0];
  };

  beforeEach(() => {
    drops = [];
    replays = [];
    acknowledged = [];
    deferred = [];
    clock = 1_000_000;
    ledger = new EnvelopeLedger(
      settings,
      {
        dropped: (reason, count) => drops.push(`${reason}:${count}`),
        replayed: (transport, count) => replays.push([transport, count]),
      },
      () => clock,
    );
    ledger.attachOutbox({
      acknowledged: (id) => acknowledged.push(id),
      defer: (id, reason) => deferred.push([id, reason]),
    });
  });

  it('takes waiting envelopes in order, grouped by destination, and never twice while in flight', () => {
    const items = [outbound(), outbound(), outbound()];
    items.forEach((o) => ledger.enqueue(o));
    const everyOther: Dispatch<Destination> = (entry, sendTo) => {
      if (entry.outbound !== items[1]) sendTo(entry.outbound === items[0] ? 'redis' : 'http');
    };
    const batches = ledger.takeBatches(100, everyOther);
    expect(batches.get('redis')!.map((e) => e.outbound)).toEqual([items[0]]);
    expect(batches.get('http')!.map((e) => e.outbound)).toEqual([items[2]]);
    // The one sent nowhere is the only one left to take.
    expect(
      ledger
        .takeBatches(100, toRedis)
        .get('redis')!
        .map((e) => e.outbound),
    ).toEqual([items[1]]);
    expect(ledger.takeBatches(100, toRedis).size).toBe(0);
    expect(ledger.size).toBe(3);
  });

  it('takes at most maxBatchSize envelopes', () => {
    for (let i = 0; i < 5; i++) ledger.enqueue(outbound());
    expect(ledger.takeBatches(2, toRedis).get('redis')).toHaveLength(2);
  });

  it('removes an acknowledged envelope, and releases its outbox record when it has one', () => {
    ledger.enqueue(outbound());
    ledger.acknowledge(takeOne());
    expect(ledger.size).toBe(0);
    expect(acknowledged).toEqual([]);

    const durable = outbound();
    expect(ledger.enqueueOutboxed(durable)).toBe(true);
    ledger.acknowledge(takeOne());
    expect(ledger.size).toBe(0);
    expect(acknowledged).toEqual([durable.envelope.id]);
  });

  it('keeps a failed envelope waiting, counts the attempt and remembers the transport, ahead of newer ones', () => {
    const first = outbound();
    ledger.enqueue(first);
    const entry = takeOne();
    ledger.enqueue(outbound());
    ledger.fail(entry, REDIS_BIT);
    expect(entry.inFlight).toBe(false);
    expect(entry.attempts).toBe(1);
    expect(ledger.hasFailedOn(entry, REDIS_BIT)).toBe(true);
    expect(ledger.size).toBe(2);
    expect(ledger.takeBatches(1, toRedis).get('redis')![0].outbound).toBe(first);

    ledger.startFreshRound(entry);
    expect(ledger.hasFailedOn(entry, REDIS_BIT)).toBe(false);
  });

  it('drops an envelope without an outbox record after the maximum attempts, counted', () => {
    ledger.enqueue(outbound());
    ledger.fail(takeOne(), REDIS_BIT);
    ledger.fail(takeOne(), REDIS_BIT);
    expect(ledger.size).toBe(0);
    expect(drops).toEqual(['max_attempts:1']);
    expect(ledger.nextRetryAt).toBeUndefined();
  });

  it('never defers an outboxed envelope out of attempts: it keeps its place, its room waits behind it, and it is tried again when due', () => {
    const stalled = outbound(room('room:1'));
    ledger.enqueueOutboxed(stalled);
    ledger.fail(takeOne(), REDIS_BIT);
    const entry = takeOne();
    ledger.fail(entry, REDIS_BIT);
    // Out of attempts, and neither deferred to the next start nor dropped.
    expect(entry.attempts).toBe(2);
    expect(ledger.size).toBe(1);
    expect(ledger.outboxedCount).toBe(1);
    expect(deferred).toEqual([]);
    expect(drops).toEqual([]);

    // Not due yet: its room's newer envelope waits behind it, another room's goes.
    const newer = outbound(room('room:1'));
    const otherRoom = outbound(room('room:2'));
    ledger.enqueue(newer);
    ledger.enqueue(otherRoom);
    const first = ledger.takeBatches(100, toRedis).get('redis')!;
    expect(first.map((e) => e.outbound)).toEqual([otherRoom]);
    expect(ledger.nextRetryAt).toBe(clock + settings.stalledRetryMs);
    ledger.acknowledge(first[0]);
    expect(ledger.takeBatches(100, toRedis).size).toBe(0);

    // Due: it goes first, then its room's newer one. Failing again, it waits another interval; its attempts count on.
    clock += settings.stalledRetryMs;
    const retry = ledger.takeBatches(100, toRedis).get('redis')!;
    expect(retry.map((e) => e.outbound)).toEqual([stalled, newer]);
    retry.forEach((e) => ledger.fail(e, REDIS_BIT));
    expect(entry.attempts).toBe(3);
    expect(ledger.takeBatches(100, toRedis).size).toBe(0);
    expect(ledger.nextRetryAt).toBe(clock + settings.stalledRetryMs);

    // A breaker closed: due at once, still ahead of its room's newer envelope; delivered, its record is released.
    ledger.retryStalledNow();
    const resumed = ledger.takeBatches(100, toRedis).get('redis')!;
    expect(resumed.map((e) => e.outbound)).toEqual([stalled, newer]);
    resumed.forEach((e) => ledger.acknowledge(e));
    expect(ledger.size).toBe(0);
    expect(acknowledged).toEqual([stalled.envelope.id]);
    expect(deferred).toEqual([]);
    expect(drops).toEqual([]);
  });

  it('at shutdown leaves a stalled outboxed envelope in the store like any waiting one', () => {
    const stalled = outbound();
    ledger.enqueueOutboxed(stalled);
    ledger.fail(takeOne(), REDIS_BIT);
    ledger.fail(takeOne(), REDIS_BIT);
    expect(ledger.leaveWaitingInOutbox()).toBe(1);
    expect(deferred).toEqual([[stalled.envelope.id, 'shutdown']]);
    expect(ledger.size).toBe(0);
  });

  it('settles a dual write once both writes answered, delivered when one of them worked', () => {
    ledger.enqueue(outbound());
    const both: Dispatch<Destination> = (_entry, sendTo) => {
      sendTo('redis');
      sendTo('http');
    };
    const entry = ledger.takeBatches(100, both).get('redis')![0];
    ledger.fail(entry, REDIS_BIT);
    expect(entry.inFlight).toBe(true);
    ledger.acknowledge(entry);
    expect(ledger.size).toBe(0);
  });

  it('replays what a failed transport acknowledged at the head of the buffer, not back to that transport first', () => {
    const waiting = outbound();
    ledger.enqueue(waiting);
    const lost = [outbound(), outbound()];
    ledger.replay('redis-streams', REDIS_BIT, lost);
    const batch = ledger.takeBatches(100, toRedis).get('redis')!;
    expect(batch.map((e) => e.outbound.envelope.id)).toEqual([...lost, waiting].map((o) => o.envelope.id));
    expect(batch.map((e) => ledger.hasFailedOn(e, REDIS_BIT))).toEqual([true, true, false]);
    expect(replays).toEqual([['redis-streams', 2]]);

    ledger.replay('redis-streams', REDIS_BIT, []);
    expect(replays).toHaveLength(1);
  });

  it('at shutdown leaves waiting outboxed envelopes in the store and drops the rest, sparing those in flight', () => {
    ledger.enqueue(outbound());
    const inFlight = takeOne();
    const durable = outbound();
    ledger.enqueueOutboxed(durable);
    ledger.enqueue(outbound());
    expect(ledger.leaveWaitingInOutbox()).toBe(1);
    expect(deferred).toEqual([[durable.envelope.id, 'shutdown']]);
    expect(ledger.dropWaiting()).toBe(1);
    expect(drops).toEqual(['shutdown:1']);
    expect(ledger.size).toBe(1);
    ledger.acknowledge(inFlight);
    expect(ledger.size).toBe(0);
  });
});
