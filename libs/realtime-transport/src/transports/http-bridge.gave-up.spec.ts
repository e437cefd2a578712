import { outbound } from '../testing/outbound.fixture';
import { GaveUpReport, MAX_REPORTED_TARGETS, type ReportHold } from './http-bridge.gave-up';

/** A ticket stand-in that records what the report settles. */
class Hold implements ReportHold {
  settled = 0;
  abandonedCalls = 0;
  laneSettled(count: number): void {
    this.settled += count;
  }
  abandoned(): void {
    this.abandonedCalls++;
  }
}

const group = (name: string) => outbound({ kind: 'group', name });
const gaveUpOf = (body: string) => (JSON.parse(body) as { envelopes: unknown[]; gaveUp: unknown[] }).gaveUp;

describe('GaveUpReport', () => {
  it('names each target once, as the envelope names it, in an empty batch', () => {
    const report = new GaveUpReport<Hold>(100);
    const hold = new Hold();
    expect(report.pending).toBe(false);
    report.add(group('room:1'), hold);
    report.add(group('room:1'), hold);
    report.add(outbound({ kind: 'user', id: 'u1' }), hold);
    expect(report.pending).toBe(true);
    const taken = report.take();
    expect(JSON.parse(taken.body)).toEqual({
      envelopes: [],
      gaveUp: [
        { kind: 'group', name: 'room:1' },
        { kind: 'user', id: 'u1' },
      ],
    });
    expect(taken).toMatchObject({ envelopes: 3, targets: 2 });
    expect(report.pending).toBe(false);
    expect(report.unreported).toBe(3);
  });

  it('settles the tickets only once the instance has the report', () => {
    const report = new GaveUpReport<Hold>(100);
    const [a, b] = [new Hold(), new Hold()];
    report.add(group('room:1'), a);
    report.add(group('room:2'), a);
    report.add(group('room:2'), b);
    report.take();
    expect([a.settled, b.settled]).toEqual([0, 0]);
    report.delivered();
    expect([a.settled, b.settled]).toEqual([2, 1]);
    expect(report.unreported).toBe(0);
  });

  it('sends a failed report again, merged with what was given up meanwhile, and settles both together', () => {
    const report = new GaveUpReport<Hold>(100);
    const [a, b] = [new Hold(), new Hold()];
    report.add(group('room:1'), a);
    report.take();
    report.add(group('room:2'), b);
    report.add(group('room:1'), b);
    report.failed();
    const again = report.take();
    expect(gaveUpOf(again.body)).toEqual([
      { kind: 'group', name: 'room:1' },
      { kind: 'group', name: 'room:2' },
    ]);
    expect(again.envelopes).toBe(3);
    report.delivered();
    expect([a.settled, b.settled]).toEqual([1, 2]);
  });

  it('keeps what is given up while a report is on its way for the next one', () => {
    const report = new GaveUpReport<Hold>(100);
    const [a, b] = [new Hold(), new Hold()];
    report.add(group('room:1'), a);
    report.take();
    report.add(group('room:2'), b);
    report.delivered();
    expect([a.settled, b.settled]).toEqual([1, 0]);
    expect(report.pending).toBe(true);
    expect(gaveUpOf(report.take().body)).toEqual([{ kind: 'group', name: 'room:2' }]);
  });

  it(`says "all" past ${MAX_REPORTED_TARGETS} targets, or for an envelope to everyone`, () => {
    const report = new GaveUpReport<Hold>(1_000_000);
    const hold = new Hold();
    for (let i = 0; i <= MAX_REPORTED_TARGETS; i++) report.add(group(`room:${i}`), hold);
    expect(report.take()).toMatchObject({ envelopes: MAX_REPORTED_TARGETS + 1, targets: 'all' });
    report.delivered();
    report.add(group('room:1'), hold);
    report.add(outbound({ kind: 'all' }), hold);
    report.add(group('room:2'), hold);
    const taken = report.take();
    expect(gaveUpOf(taken.body)).toEqual([{ kind: 'all' }]);
    expect(taken.targets).toBe('all');
  });

  it('says "all" rather than a long list (64 KiB of names)', () => {
    const report = new GaveUpReport<Hold>(1_000_000);
    const hold = new Hold();
    for (let i = 0; i < 300; i++) report.add(group(`${i}:`.padEnd(256, 'x')), hold);
    expect(report.take().targets).toBe('all');
  });

  it('holds at most maxHeld envelopes: past it the oldest ticket is released, its target still reported', () => {
    const report = new GaveUpReport<Hold>(3);
    const [a, b] = [new Hold(), new Hold()];
    report.add(group('room:1'), a);
    report.add(group('room:1'), a);
    report.add(group('room:2'), b);
    expect(a.settled).toBe(0);
    report.add(group('room:2'), b);
    expect([a.settled, b.settled]).toEqual([2, 0]);
    expect(gaveUpOf(report.take().body)).toHaveLength(2);
    report.delivered();
    expect([a.settled, b.settled]).toEqual([2, 2]);
  });

  it('abandons at shutdown: nothing more is reported and the tickets are never settled', () => {
    const report = new GaveUpReport<Hold>(100);
    const [a, b] = [new Hold(), new Hold()];
    report.add(group('room:1'), a);
    report.take();
    report.add(group('room:2'), b);
    expect(report.abandon()).toBe(2);
    expect([a.abandonedCalls, b.abandonedCalls]).toEqual([1, 1]);
    expect([a.settled, b.settled]).toEqual([0, 0]);
    expect(report.pending).toBe(false);
    report.failed(); // the cut report's POST failing afterwards changes nothing
    expect(report.pending).toBe(false);
  });
});
