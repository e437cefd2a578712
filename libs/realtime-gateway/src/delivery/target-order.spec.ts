import type { Envelope, RealtimeTarget } from '@realtime-streams/contracts';
import { NO_TARGET_ORDER_METRICS } from './delivery.metrics';
import { type OrderBreak, TargetOrder } from './target-order';

const room = (name: string): RealtimeTarget => ({ kind: 'group', name });
const item = (seq: number, target = room('r')) => ({
  envelope: { v: 1, id: `${seq}`, type: 't', target, method: 'M', args: [], ts: 0, volatile: false, seq } as Envelope,
});

describe('TargetOrder', () => {
  let delivered: Array<[number, boolean]>;
  let broken: Array<[string, OrderBreak]>;
  let recipients: boolean;
  let began: string[];
  let order: TargetOrder<ReturnType<typeof item>>;
  const options = { holdMs: 1000, firstHoldMs: 200, maxTargets: 100, maxHeld: 5 };
  const offer = (...seqs: number[]) => seqs.forEach((seq) => order.offer(item(seq)));
  const seqs = () => delivered.map(([seq]) => seq);

  beforeEach(() => {
    jest.useFakeTimers();
    delivered = [];
    broken = [];
    recipients = true;
    began = [];
    order = new TargetOrder(options, NO_TARGET_ORDER_METRICS, {
      deliver: ({ envelope }, released) => delivered.push([envelope.seq!, released]),
      hasRecipients: () => recipients,
      holding: (target) => began.push((target as { name: string }).name),
      giveUp: (target, reason) => broken.push([(target as { name: string }).name, reason]),
    });
  });

  afterEach(() => jest.useRealTimers());

  it('delivers in number order whatever order the numbers come in, marking what waited', () => {
    offer(1, 3, 2, 5, 4, 6);
    expect(delivered).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, true],
      [6, false],
    ]);
    expect(order.holding).toBe(0);
    expect(broken).toEqual([]);
  });

  it('moves past numbers that went by unread for nobody, so a member joining gets the next one at once', () => {
    recipients = false;
    order.passedBy(room('r'), 7);
    order.passedBy(room('r'), 8);
    recipients = true;
    offer(9);
    // No first hold: this gateway knows where the room stands although it parsed none of 7 and 8.
    expect(delivered).toEqual([[9, false]]);
    offer(11);
    expect(order.holds(room('r'))).toBe(true);
    offer(10);
    expect(seqs()).toEqual([9, 10, 11]);
  });

  it('waits for the start of a target it has never seen any number of, as before', () => {
    offer(9);
    expect(delivered).toEqual([]);
    jest.advanceTimersByTime(options.firstHoldMs);
    expect(seqs()).toEqual([9]);
  });

  it('says when a target begins holding, and whether it holds now', () => {
    offer(1, 3, 4);
    expect(began).toEqual(['r']);
    expect(order.holds(room('r'))).toBe(true);
    expect(order.holds(room('other'))).toBe(false);
    offer(2);
    expect(order.holds(room('r'))).toBe(false);
    offer(6);
    expect(began).toEqual(['r', 'r']);
  });

  it('keeps targets apart', () => {
    order.offer(item(1, room('a')));
    order.offer(item(3, room('a')));
    order.offer(item(1, room('b')));
    expect(seqs()).toEqual([1, 1]);
  });

  it('gives a missing number up after holdMs: the target is told, and goes on after what it held', () => {
    offer(1, 3, 4);
    jest.advanceTimersByTime(999);
    expect(broken).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(broken).toEqual([['r', 'timeout']]);
    // What was held reaches the closed clients through their re-fetch, not live.
    expect(seqs()).toEqual([1]);
    offer(5, 2);
    expect(seqs()).toEqual([1, 5]);
    expect(broken).toHaveLength(1);
  });

  it('drops a number it delivered already', () => {
    offer(1, 2, 1, 2);
    expect(seqs()).toEqual([1, 2]);
    expect(broken).toEqual([]);
  });

  it('holds the first number of a target new to it, with clients here, for an earlier one', () => {
    offer(8);
    expect(seqs()).toEqual([]);
    offer(7);
    jest.advanceTimersByTime(200);
    expect(delivered).toEqual([
      [7, true],
      [8, true],
    ]);
    offer(9);
    expect(seqs()).toEqual([7, 8, 9]);
  });

  it('starts a target new to it at once when it has no clients here, or the number is 1', () => {
    recipients = false;
    offer(8);
    order.offer(item(1, room('other')));
    expect(seqs()).toEqual([8, 1]);
  });

  it('tells the target when an earlier number comes after its first one went out', () => {
    offer(8);
    jest.advanceTimersByTime(200);
    offer(9, 7);
    expect(seqs()).toEqual([8, 9]);
    expect(broken).toEqual([['r', 'late']]);
  });

  it('gives the target at hand up when maxHeld envelopes are held', () => {
    offer(1, 3, 4, 5, 6, 7);
    expect(order.holding).toBe(5);
    offer(8);
    expect(broken).toEqual([['r', 'overflow']]);
    expect(order.holding).toBe(0);
    offer(9);
    expect(seqs()).toEqual([1, 9]);
  });

  it('forgets a target a publisher gave envelopes up for: its hole does not tell its clients again', () => {
    offer(1, 4);
    order.forget([room('r')]);
    expect(order.holding).toBe(0);
    jest.advanceTimersByTime(5000);
    expect(broken).toEqual([]);
    // New again: it starts from what comes next (here, with clients, after the first hold).
    offer(5, 6);
    jest.advanceTimersByTime(200);
    expect(seqs()).toEqual([1, 5, 6]);
  });

  it('does not hold for a target without connections here: it goes on at once', () => {
    offer(1);
    recipients = false;
    offer(3);
    expect(seqs()).toEqual([1, 3]);
    expect(order.holding).toBe(0);
    // The one that came late was committed before the skip: nobody here to tell.
    offer(2);
    expect(broken).toEqual([]);
  });
});
