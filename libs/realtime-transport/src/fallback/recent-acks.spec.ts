import { outbound } from '../testing/outbound.fixture';
import { RecentAcks } from './recent-acks';

describe('RecentAcks', () => {
  const room = (name: string) => outbound({ kind: 'group', name });

  it("takes the matching targets' envelopes since a time, oldest first, and keeps the others in order", () => {
    const acks = new RecentAcks(10_000, 100);
    const [a1, b1, a2, b2] = [room('a'), room('b'), room('a'), room('b')];
    acks.record([a1], 1000);
    acks.record([b1, a2], 2000);
    acks.record([b2], 3000);
    const taken = acks.takeMatching(1500, (key) => key === 'group:a');
    expect(taken.map((o) => o.envelope.id)).toEqual([a2.envelope.id]);
    expect(taken[0].json).toBe(a2.json);
    // a1 was older than `since`: gone with the take; b1 and b2 stay.
    expect(acks.takeSince(0).map((o) => o.envelope.id)).toEqual([b1.envelope.id, b2.envelope.id]);
  });

  it('keeps its bound when what stays is put back', () => {
    const acks = new RecentAcks(10_000, 3);
    acks.record([room('a'), room('b'), room('b'), room('b')], 1000);
    expect(acks.takeMatching(0, (key) => key === 'group:a')).toEqual([]);
    expect(acks.takeSince(0)).toHaveLength(3);
  });
});
