import type { RealtimeTarget } from '@realtime-streams/contracts';
import { InboundEnvelopeReader } from '../../delivery/inbound-envelope';
import { hubProtocolNamed } from '../protocols/hub-protocols';
import type { SessionRecord } from './session-record';
import { rebuildSession, type ReplaySource } from './session-replay';
import type { SessionStore, StreamEntries } from './session-store';
import { compareStreamIds } from './stream-ids';

const KEYS = ['realtime:{a}:0', 'realtime:{b}:1'];
const [A, B] = KEYS;
const reader = new InboundEnvelopeReader({ maxArgsBytes: 64 * 1024, maxArgsDepth: 16 });
const codec = hubProtocolNamed('json')!;
const room = (name: string): RealtimeTarget => ({ kind: 'group', name });

/** A stream entry as XRANGE returns it: an envelope for `target` whose one argument is `text`. */
function entry(id: string, target: RealtimeTarget, text: string, seq?: number): [string, string[]] {
  const envelope = {
    v: 1,
    id: `id-${text}`,
    type: 'chat.message',
    target,
    method: 'ReceiveMessage',
    args: [text],
    ts: 1,
  };
  return [id, ['e', JSON.stringify({ ...envelope, volatile: false, ...(seq === undefined ? {} : { seq }) })]];
}

/** A store whose shards hold `streams`; `entriesAfter` answers as Redis would (after the position, exclusive). */
function source(streams: Record<string, StreamEntries>, maxEntries = 100): ReplaySource & { reads: jest.Mock } {
  const reads = jest.fn(async (keys: readonly string[], after: Readonly<Record<string, string>>, count: number) =>
    keys.map((key) => (streams[key] ?? []).filter(([id]) => compareStreamIds(id, after[key]) > 0).slice(0, count)),
  );
  return { store: { entriesAfter: reads } as unknown as SessionStore, reader, keysOf: () => KEYS, maxEntries, reads };
}

function record(fields: Partial<SessionRecord>): SessionRecord {
  return {
    v: 1,
    owner: 'gw-old',
    state: 'live',
    connectionId: 'c-1',
    userId: 'u-1',
    base: 3,
    frames: [],
    pos: { [A]: '10-0', [B]: '10-0' },
    groups: ['room:a', 'room:b'],
    events: [],
    received: 0,
    foreign: false,
    at: 0,
    ...fields,
  };
}

/** The first argument of every message the resumed client would be resent, in order. */
function resent(session: { unacked(): Iterable<string | Buffer> }): string[] {
  return [...session.unacked()].map((frame) => JSON.parse(String(frame).split('\x1e')[0]).arguments[0] as string);
}

describe('rebuildSession', () => {
  it("regenerates a crashed session's messages when the entries after its checkpoint are on one shard", async () => {
    const streams = {
      [A]: [
        entry('9-0', room('room:a'), 'before'),
        entry('11-0', room('room:a'), 'a1'),
        entry('12-0', room('room:a'), 'a2'),
      ],
      // Another shard's entries for groups the session is not in do not make the replay ambiguous.
      [B]: [entry('11-5', room('room:other'), 'not-ours')],
    };
    const rebuilt = await rebuildSession(record({}), 'h', 'u-1', source(streams));
    if (!rebuilt.ok) throw new Error(rebuilt.reason);
    expect(resent(rebuilt.session)).toEqual(['a1', 'a2']);
    expect(rebuilt.session.sent).toBe(5); // numbered after the 3 the client acknowledged
    expect(rebuilt.replayed).toBe(2);
    expect(rebuilt.readUpTo).toEqual({ [A]: '12-0', [B]: '11-5' });
    expect([...rebuilt.ids]).toEqual(['id-a1', 'id-a2']);
  });

  it('refuses a crashed session with entries for it on two shards: the old interleaving is not recorded', async () => {
    const streams = {
      [A]: [entry('11-0', room('room:a'), 'a1')],
      [B]: [entry('11-1', room('room:b'), 'b1')],
    };
    expect(await rebuildSession(record({}), 'h', 'u-1', source(streams))).toEqual({
      ok: false,
      reason: 'several_shards',
    });
  });

  it('resumes a handed-over session exactly whatever the shards: its recorded messages, then every new entry', async () => {
    const old = codec.toRecord(codec.invocation('ReceiveMessage', ['recorded'], '["recorded"]'));
    const streams = {
      [A]: [entry('10-0', room('room:a'), 'already-sent'), entry('11-0', room('room:a'), 'a1')],
      [B]: [entry('11-1', room('room:b'), 'b1'), entry('12-0', { kind: 'user', id: 'u-1' }, 'b2')],
    };
    const rebuilt = await rebuildSession(record({ state: 'detached', frames: [old] }), 'h', 'u-1', source(streams));
    if (!rebuilt.ok) throw new Error(rebuilt.reason);
    // New to the client: appended with fresh ids, so the order across shards is free (each shard's is kept).
    expect(resent(rebuilt.session)).toEqual(['recorded', 'a1', 'b1', 'b2']);
    expect(rebuilt.session.sent).toBe(7);
    expect(rebuilt.replayed).toBe(4);
    expect(rebuilt.readUpTo).toEqual({ [A]: '11-0', [B]: '12-0' });
  });

  it('asks for one entry past the bound on each shard, and refuses a shard past it: too_far_behind', async () => {
    const streams = { [A]: [1, 2, 3].map((n) => entry(`1${n}-0`, room('room:a'), `a${n}`)) };
    const within = source(streams, 3);
    expect(await rebuildSession(record({}), 'h', 'u-1', within)).toMatchObject({ ok: true, replayed: 3 });
    expect(within.reads).toHaveBeenCalledWith(KEYS, { [A]: '10-0', [B]: '10-0' }, 4);
    expect(await rebuildSession(record({}), 'h', 'u-1', source(streams, 2))).toEqual({
      ok: false,
      reason: 'too_far_behind',
    });
  });

  it('refuses when Redis cannot be read (the client starts over)', async () => {
    const failing = source({});
    failing.reads.mockRejectedValueOnce(new Error('CLUSTERDOWN'));
    expect(await rebuildSession(record({}), 'h', 'u-1', failing)).toEqual({ ok: false, reason: 'redis' });
  });

  describe("a target's numbered envelopes (seq)", () => {
    const numbered = (...seqs: number[]) => ({
      [A]: seqs.map((seq, i) => entry(`${11 + i}-0`, room('room:a'), `n${seq}`, seq)),
    });

    it('replays them when they follow on in the stream', async () => {
      const rebuilt = await rebuildSession(record({}), 'h', 'u-1', source(numbered(7, 8, 9)));
      if (!rebuilt.ok) throw new Error(rebuilt.reason);
      expect(resent(rebuilt.session)).toEqual(['n7', 'n8', 'n9']);
    });

    it.each([
      ['out of order (two apis published 8 before 7)', [8, 7]],
      ['with a hole (9 after 7)', [7, 9]],
    ])('refuses a replay %s: the old instance sent them in number order, or told the client', async (_name, seqs) => {
      expect(await rebuildSession(record({}), 'h', 'u-1', source(numbered(...seqs)))).toEqual({
        ok: false,
        reason: 'out_of_order',
      });
      expect(await rebuildSession(record({ state: 'detached' }), 'h', 'u-1', source(numbered(...seqs)))).toMatchObject({
        ok: false,
        reason: 'out_of_order',
      });
    });

    it("refuses while this instance holds one of the session's targets for an earlier envelope", async () => {
      const holding = { ...source(numbered(7)), holds: (target: RealtimeTarget) => target.kind === 'group' };
      expect(await rebuildSession(record({}), 'h', 'u-1', holding)).toMatchObject({ reason: 'out_of_order' });
      const elsewhere = { ...source(numbered(7)), holds: () => false };
      expect(await rebuildSession(record({}), 'h', 'u-1', elsewhere)).toMatchObject({ ok: true });
    });
  });
});
