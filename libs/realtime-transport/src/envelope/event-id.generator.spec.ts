import { EventIdGenerator } from './event-id.generator';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('EventIdGenerator', () => {
  it('makes UUIDv7 ids that carry the millisecond', () => {
    const id = new EventIdGenerator().next(0x0193_f1c2_7d3a);
    expect(id).toMatch(UUID_V7);
    expect(id.startsWith('0193f1c2-7d3a-7')).toBe(true);
  });

  it('makes unique ids that sort in creation order, even many in one millisecond', () => {
    const ids = new EventIdGenerator();
    const made = Array.from({ length: 20_000 }, (_, i) => ids.next(1_700_000_000_000 + Math.floor(i / 10_000)));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    for (const id of made.slice(0, 50)) expect(id).toMatch(UUID_V7);
  });

  it('never goes backwards when the clock does', () => {
    const ids = new EventIdGenerator();
    const first = ids.next(2_000_000);
    const second = ids.next(1_000_000);
    expect(second > first).toBe(true);
  });
});
