import type { OutboundEnvelope } from '@realtime-streams/contracts';
import type { CoalescerDiscardReason, CoalescerMetrics } from './coalescer.metrics';
import { EventCoalescer } from './event.coalescer';

let seq = 0;
function typing(
  room: string,
  user: string,
  isTyping: boolean,
  windowMs?: number,
  refreshMs?: number,
): OutboundEnvelope {
  const args = [{ roomId: room, userId: user, isTyping }];
  const envelope = {
    v: 1 as const,
    id: `t-${++seq}`,
    type: 'chat.typing',
    target: { kind: 'group' as const, name: `room:${room}` },
    method: 'UserTyping',
    args,
    ts: Date.now(),
    volatile: true,
  };
  return {
    envelope,
    json: JSON.stringify(envelope),
    targetKey: `group:room:${room}`,
    argsJson: JSON.stringify(args),
    coalesceKey: `${room}:${user}`,
    coalesceWindowMs: windowMs,
    coalesceRefreshMs: refreshMs,
  };
}

const stateOf = (o: OutboundEnvelope) => o.envelope.args[0] as { userId: string; isTyping: boolean };

class RecordingMetrics implements CoalescerMetrics {
  in = 0;
  out = 0;
  delays: number[] = [];
  discards: CoalescerDiscardReason[] = [];
  received() {
    this.in++;
  }
  emitted(_type: string, delayMs: number) {
    this.out++;
    this.delays.push(delayMs);
  }
  discarded(_type: string, reason: CoalescerDiscardReason) {
    this.discards.push(reason);
  }
}

describe('EventCoalescer', () => {
  let sent: OutboundEnvelope[];
  let metrics: RecordingMetrics;
  let coalescer: EventCoalescer;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sent = [];
    metrics = new RecordingMetrics();
    // Windows alone (no refresh interval): the behaviour every release before had.
    coalescer = new EventCoalescer(
      (o) => sent.push(o),
      { defaultWindowMs: 100, defaultRefreshMs: 0, maxKeys: 1_000_000 },
      metrics,
    );
  });

  afterEach(() => {
    coalescer.flush();
    jest.useRealTimers();
  });

  it('sends the first event of a key at once, with no added delay', () => {
    const first = typing('1', 'alice', true);
    coalescer.accept(first);
    expect(sent).toEqual([first]);
    expect(metrics.delays).toEqual([0]);
  });

  it('replaces events within the window and drops the last one when it repeats the state already sent', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(30);
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(30);
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(40);
    expect(sent).toHaveLength(1);
    expect(metrics.discards).toEqual(['replaced', 'unchanged']);
    expect(coalescer.size).toBe(0);
  });

  it('sends a "stopped typing" that follows "typing" within the window when the window closes, never later', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(20);
    const stopped = typing('1', 'alice', false);
    coalescer.accept(stopped);
    jest.advanceTimersByTime(79);
    expect(sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sent.at(-1)).toBe(stopped);
    expect(metrics.delays.at(-1)).toBe(80);
    expect(Math.max(...metrics.delays)).toBeLessThanOrEqual(100);
  });

  it('keeps only the latest of several changes within a window', () => {
    coalescer.accept(typing('1', 'alice', true));
    coalescer.accept(typing('1', 'alice', false));
    coalescer.accept(typing('1', 'alice', true));
    const last = typing('1', 'alice', false);
    coalescer.accept(last);
    jest.advanceTimersByTime(100);
    expect(sent.map((o) => stateOf(o).isTyping)).toEqual([true, false]);
    expect(sent[1]).toBe(last);
  });

  it('opens a new window after sending a change, so a burst after it is coalesced too', () => {
    coalescer.accept(typing('1', 'alice', true));
    coalescer.accept(typing('1', 'alice', false));
    jest.advanceTimersByTime(100); // "false" goes out, a window opens
    coalescer.accept(typing('1', 'alice', true));
    expect(sent).toHaveLength(2);
    jest.advanceTimersByTime(100); // "true" differs from "false": out
    expect(sent.map((o) => stateOf(o).isTyping)).toEqual([true, false, true]);
  });

  it('sends at once again when a key was idle for a whole window', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(150);
    coalescer.accept(typing('1', 'alice', true));
    expect(sent).toHaveLength(2);
    expect(metrics.delays).toEqual([0, 0]);
  });

  it('never lets two users typing in one room hide each other', () => {
    coalescer.accept(typing('1', 'alice', true));
    coalescer.accept(typing('1', 'bob', true));
    coalescer.accept(typing('1', 'alice', false));
    coalescer.accept(typing('1', 'bob', true));
    expect(sent.map((o) => stateOf(o).userId)).toEqual(['alice', 'bob']);
    jest.advanceTimersByTime(100);
    expect(sent.map((o) => `${stateOf(o).userId}:${stateOf(o).isTyping}`)).toEqual([
      'alice:true',
      'bob:true',
      'alice:false',
    ]);
  });

  it('does not make one key wait on another', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(50);
    const other = typing('2', 'carol', true);
    coalescer.accept(other);
    expect(sent.at(-1)).toBe(other);
  });

  it('discards a superseded pending state, and the next event of that key goes out at once', () => {
    coalescer.accept(typing('1', 'alice', true));
    coalescer.accept(typing('1', 'alice', true));
    coalescer.supersede('1:alice'); // alice's chat message was published
    jest.advanceTimersByTime(200);
    expect(sent).toHaveLength(1);
    expect(metrics.discards).toEqual(['superseded']);
    const again = typing('1', 'alice', true);
    coalescer.accept(again);
    expect(sent.at(-1)).toBe(again);
  });

  it('leaves other keys alone when superseding one', () => {
    coalescer.accept(typing('1', 'bob', true));
    const stopped = typing('1', 'bob', false);
    coalescer.accept(stopped);
    coalescer.supersede('1:alice');
    jest.advanceTimersByTime(100);
    expect(sent.at(-1)).toBe(stopped);
  });

  it('preserves the order of each key across windows', () => {
    const states = [true, false, true, false, true, false];
    for (const state of states) {
      coalescer.accept(typing('1', 'alice', state));
      jest.advanceTimersByTime(100);
    }
    const out = sent.map((o) => stateOf(o).isTyping);
    expect(out).toEqual(states);
    const ids = sent.map((o) => Number(o.envelope.id.slice(2)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('uses the window an event names over the default', () => {
    coalescer.accept(typing('1', 'alice', true, 300));
    const stopped = typing('1', 'alice', false, 300);
    coalescer.accept(stopped);
    jest.advanceTimersByTime(299);
    expect(sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sent.at(-1)).toBe(stopped);
  });

  it('releases idle keys: 100,000 distinct keys leave no state behind', () => {
    for (let i = 0; i < 100_000; i++) coalescer.accept(typing(String(i % 1000), `user-${i}`, true));
    expect(coalescer.size).toBe(100_000);
    expect(sent).toHaveLength(100_000);
    jest.advanceTimersByTime(100);
    expect(coalescer.size).toBe(0);
  });

  it('lets events through uncoalesced rather than track more keys than allowed', () => {
    coalescer = new EventCoalescer(
      (o) => sent.push(o),
      { defaultWindowMs: 100, defaultRefreshMs: 0, maxKeys: 2 },
      metrics,
    );
    coalescer.accept(typing('1', 'a', true));
    coalescer.accept(typing('1', 'b', true));
    coalescer.accept(typing('1', 'c', true));
    coalescer.accept(typing('1', 'c', true));
    expect(sent).toHaveLength(4);
    expect(coalescer.size).toBe(2);
  });

  it('flushes pending changes on shutdown and forgets everything', () => {
    coalescer.accept(typing('1', 'alice', true));
    const stopped = typing('1', 'alice', false);
    coalescer.accept(stopped);
    coalescer.accept(typing('1', 'bob', true));
    coalescer.accept(typing('1', 'bob', true));
    expect(coalescer.flush()).toBe(1);
    expect(sent.at(-1)).toBe(stopped);
    expect(metrics.discards).toEqual(['unchanged']);
    expect(coalescer.size).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(sent).toHaveLength(3);
  });

  it('counts every event in and out', () => {
    for (let i = 0; i < 10; i++) coalescer.accept(typing('1', 'alice', i % 2 === 0));
    jest.advanceTimersByTime(100);
    expect(metrics.in).toBe(10);
    expect(metrics.out).toBe(sent.length);
    expect(sent.map((o) => stateOf(o).isTyping)).toEqual([true, false]);
  });
});

describe('EventCoalescer with a refresh interval (1 s)', () => {
  let sent: Array<{ at: number; isTyping: boolean }>;
  let metrics: RecordingMetrics;
  let coalescer: EventCoalescer;
  const started = 1_000_000;

  beforeEach(() => {
    jest.useFakeTimers({ now: started });
    sent = [];
    metrics = new RecordingMetrics();
    coalescer = new EventCoalescer(
      (o) => sent.push({ at: Date.now() - started, isTyping: stateOf(o).isTyping }),
      { defaultWindowMs: 100, defaultRefreshMs: 1000, maxKeys: 1_000_000 },
      metrics,
    );
  });

  afterEach(() => {
    coalescer.flush();
    jest.useRealTimers();
  });

  /** An average typist: a key every 210 ms (longer than a window), "typing" on each. */
  const typeFor = (ms: number, everyMs = 210) => {
    for (let t = 0; t < ms; t += everyMs) {
      coalescer.accept(typing('1', 'alice', true));
      jest.advanceTimersByTime(everyMs);
    }
  };

  it('does not send an unchanged "typing" again within the refresh interval, however slowly keys come', () => {
    typeFor(900);
    expect(sent).toEqual([{ at: 0, isTyping: true }]);
    expect(metrics.discards.every((reason) => reason === 'unchanged')).toBe(true);
  });

  it('sends it again once the interval passed, so a receiver never goes a refresh plus one key without it', () => {
    typeFor(5000);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(sent.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < sent.length; i++) expect(sent[i].at - sent[i - 1].at).toBeLessThanOrEqual(1000 + 210);
  });

  it('sends a change at once after a window, and within one window inside it; the final state is never lost', () => {
    typeFor(630);
    coalescer.accept(typing('1', 'alice', false));
    expect(sent.at(-1)).toEqual({ at: 630, isTyping: false });
    coalescer.accept(typing('1', 'alice', true));
    coalescer.accept(typing('1', 'alice', false));
    jest.advanceTimersByTime(100);
    // The "typing" in between replaced within the window; the state sent last stays "stopped".
    expect(sent.at(-1)!.isTyping).toBe(false);
    expect(sent.filter((s) => s.at > 630)).toEqual([]);
  });

  it('forgets a key a refresh interval after its last send', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(500);
    expect(coalescer.size).toBe(1);
    jest.advanceTimersByTime(600);
    expect(coalescer.size).toBe(0);
    coalescer.accept(typing('1', 'alice', true));
    expect(sent).toHaveLength(2);
  });

  it('lets a superseding message clear what it remembers: the next "typing" goes out at once', () => {
    coalescer.accept(typing('1', 'alice', true));
    jest.advanceTimersByTime(300);
    coalescer.supersede('1:alice');
    coalescer.accept(typing('1', 'alice', true));
    expect(sent).toHaveLength(2);
  });

  it('uses the refresh interval an event names, 0 for changes only', () => {
    coalescer.accept(typing('1', 'alice', true, undefined, 0));
    jest.advanceTimersByTime(300);
    coalescer.accept(typing('1', 'alice', true, undefined, 0));
    // Forgotten when its window closed: sent again at once, as without a refresh interval.
    expect(sent).toHaveLength(2);
  });
});
