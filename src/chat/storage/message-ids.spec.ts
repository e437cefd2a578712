import { EventIdGenerator } from '@realtime-streams/transport';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The stores' message ids: the transport's UUIDv7 generator (time-ordered, so a group commit's inserts land at
// the id index's right edge instead of a random page each).
describe('message ids (EventIdGenerator)', () => {
  it('makes UUIDv7 ids carrying the millisecond', () => {
    const id = new EventIdGenerator().next(1_732_710_000_123.4);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(1_732_710_000_123);
  });

  it('grows with every id, within a millisecond too, and when the clock steps back', () => {
    const ids = new EventIdGenerator();
    const made = [
      ...Array.from({ length: 5000 }, () => ids.next(1000)), // past the 4096 a millisecond holds
      ids.next(999),
      ids.next(1002),
    ];
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    expect(made.every((id) => UUID_V7.test(id))).toBe(true);
  });
});
