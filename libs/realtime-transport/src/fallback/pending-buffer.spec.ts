import { outbound } from '../testing/outbound.fixture';
import { type DropReason, PendingBuffer } from './pending-buffer';

describe('PendingBuffer', () => {
  let drops: Array<[string, DropReason]>;
  const onDrop = (entry: { outbound: { envelope: { id: string } } }, reason: DropReason) =>
    drops.push([entry.outbound.envelope.id, reason]);
  const ids = (buffer: PendingBuffer) => {
    const out: string[] = [];
    for (let e = buffer.first; e; e = e.next) out.push(e.outbound.envelope.id);
    return out;
  };

  beforeEach(() => (drops = []));

  it('keeps envelopes in arrival order and removes from anywhere', () => {
    const buffer = new PendingBuffer(10, onDrop);
    const items = [outbound(), outbound(), outbound()];
    items.forEach((o) => buffer.push(o));
    expect(ids(buffer)).toEqual(items.map((o) => o.envelope.id));
    buffer.remove(buffer.first!.next!);
    expect(ids(buffer)).toEqual([items[0].envelope.id, items[2].envelope.id]);
    expect(buffer.size).toBe(2);
  });

  it('when full, evicts the oldest volatile envelope first', () => {
    const buffer = new PendingBuffer(3, onDrop);
    const a = outbound();
    const typing1 = outbound(undefined, true);
    const typing2 = outbound(undefined, true);
    [a, typing1, typing2].forEach((o) => buffer.push(o));
    const b = outbound();
    buffer.push(b);
    expect(drops).toEqual([[typing1.envelope.id, 'buffer_full_volatile']]);
    expect(ids(buffer)).toEqual([a.envelope.id, typing2.envelope.id, b.envelope.id]);
  });

  it('when full of durable envelopes, drops an incoming volatile one rather than a durable one', () => {
    const buffer = new PendingBuffer(2, onDrop);
    const [a, b] = [outbound(), outbound()];
    [a, b].forEach((o) => buffer.push(o));
    const typing = outbound(undefined, true);
    buffer.push(typing);
    expect(drops).toEqual([[typing.envelope.id, 'buffer_full_volatile']]);
    expect(ids(buffer)).toEqual([a.envelope.id, b.envelope.id]);
  });

  it('when full of durable envelopes, evicts the oldest', () => {
    const buffer = new PendingBuffer(2, onDrop);
    const [a, b, c] = [outbound(), outbound(), outbound()];
    [a, b, c].forEach((o) => buffer.push(o));
    expect(drops).toEqual([[a.envelope.id, 'buffer_full_oldest']]);
    expect(ids(buffer)).toEqual([b.envelope.id, c.envelope.id]);
  });

  it('never evicts an envelope in flight', () => {
    const buffer = new PendingBuffer(2, onDrop);
    const [a, b, c] = [outbound(), outbound(), outbound()];
    [a, b].forEach((o) => buffer.push(o));
    buffer.first!.inFlight = true;
    buffer.push(c);
    expect(drops).toEqual([[b.envelope.id, 'buffer_full_oldest']]);
    expect(ids(buffer)).toEqual([a.envelope.id, c.envelope.id]);
  });

  it('stays within capacity whatever is pushed, so memory is bounded', () => {
    const buffer = new PendingBuffer(100, onDrop);
    for (let i = 0; i < 10_000; i++) buffer.push(outbound(undefined, i % 3 === 0));
    expect(buffer.size).toBe(100);
    expect(ids(buffer)).toHaveLength(100);
    expect(drops).toHaveLength(9_900);
  });

  it('drops what waits, not what is in flight, on shutdown', () => {
    const buffer = new PendingBuffer(10, onDrop);
    const [a, b] = [outbound(), outbound()];
    [a, b].forEach((o) => buffer.push(o));
    buffer.first!.inFlight = true;
    expect(buffer.dropWaiting('shutdown')).toBe(1);
    expect(drops).toEqual([[b.envelope.id, 'shutdown']]);
    expect(buffer.size).toBe(1);
  });

  describe('with outboxed envelopes (their records are in the store)', () => {
    it('never evicts one: a full buffer refuses an incoming outboxed envelope without dropping anything', () => {
      const buffer = new PendingBuffer(2, onDrop);
      const [a, b, c] = [outbound(), outbound(), outbound()];
      buffer.push(a, true);
      buffer.push(b, true);
      expect(buffer.push(c, true)).toBe(false);
      expect(drops).toEqual([]);
      expect(ids(buffer)).toEqual([a.envelope.id, b.envelope.id]);
      expect(buffer.outboxedCount).toBe(2);
    });

    it('still evicts volatile ones for it, and plain ones evict the oldest plain one, never an outboxed one', () => {
      const buffer = new PendingBuffer(3, onDrop);
      const boxed = outbound();
      const plain = outbound();
      const typing = outbound(undefined, true);
      buffer.push(boxed, true);
      buffer.push(plain);
      buffer.push(typing);
      const boxed2 = outbound();
      expect(buffer.push(boxed2, true)).toBe(true);
      expect(drops).toEqual([[typing.envelope.id, 'buffer_full_volatile']]);
      const plain2 = outbound();
      expect(buffer.push(plain2)).toBe(true);
      expect(drops[1]).toEqual([plain.envelope.id, 'buffer_full_oldest']);
      const plain3 = outbound();
      buffer.first!.next!.next!.inFlight = true; // plain2 in flight: nothing plain to evict
      expect(buffer.push(plain3)).toBe(false);
      expect(drops[2]).toEqual([plain3.envelope.id, 'buffer_full_oldest']);
      expect(ids(buffer)).toEqual([boxed.envelope.id, boxed2.envelope.id, plain2.envelope.id]);
    });

    it('takes records the relay read back over capacity, and on shutdown releases waiting ones instead of dropping them', () => {
      const buffer = new PendingBuffer(1, onDrop);
      const [a, b, c] = [outbound(), outbound(), outbound()];
      buffer.push(a);
      buffer.push(b, true, true);
      buffer.push(c, true, true);
      expect(buffer.size).toBe(3);
      buffer.first!.next!.inFlight = true;
      expect(buffer.releaseWaitingOutboxed()).toEqual([c.envelope.id]);
      expect(buffer.dropWaiting('shutdown')).toBe(1);
      expect(drops).toEqual([[a.envelope.id, 'shutdown']]);
      expect(ids(buffer)).toEqual([b.envelope.id]);
    });
  });
});
