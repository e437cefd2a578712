import { percentagePoint, shardOf, stableHash } from './stable-hash';

describe('stable hashing', () => {
  const rooms = Array.from({ length: 10_000 }, (_, i) => `group:room:${i}`);

  it('gives the same value for the same key, every time', () => {
    expect(stableHash('group:room:42')).toBe(stableHash('group:room:42'));
    expect(percentagePoint('group:room:42')).toBe(percentagePoint('group:room:42'));
    // Pinned values: a change of the hash would move rooms between transports and shards on upgrade.
    expect(stableHash('group:room:42')).toBe(3943061822);
    expect(stableHash('')).toBe(2872998923);
    expect(percentagePoint('group:room:42')).toBe(19.81);
    expect(shardOf('group:room:42', 4)).toBe(2);
  });

  it.each([1, 5, 10, 25, 33.3, 50, 75, 90, 99])(
    'puts %p %% of 10,000 rooms on the selected side, within 2 points',
    (percentage) => {
      const selected = rooms.filter((room) => percentagePoint(room) < percentage).length;
      expect(Math.abs((selected / rooms.length) * 100 - percentage)).toBeLessThanOrEqual(2);
    },
  );

  it('keeps the selection monotonic: raising the percentage only adds rooms', () => {
    const at20 = new Set(rooms.filter((room) => percentagePoint(room) < 20));
    const at40 = rooms.filter((room) => percentagePoint(room) < 40);
    for (const room of at20) expect(at40).toContain(room);
  });

  it('spreads rooms over shards evenly and keeps a room on one shard', () => {
    const counts = new Array<number>(8).fill(0);
    for (const room of rooms) counts[shardOf(room, 8)]++;
    for (const count of counts) expect(Math.abs(count - rooms.length / 8)).toBeLessThan(rooms.length / 8 / 10);
    expect(shardOf('group:room:7', 8)).toBe(shardOf('group:room:7', 8));
    expect(shardOf('group:room:7', 1)).toBe(0);
  });

  it('decides shard and percentage independently', () => {
    // If both used the same hash, the rooms on shard 0 of 2 would be exactly the lower half of the percentage scale.
    const shard0 = rooms.filter((room) => shardOf(room, 2) === 0);
    const below50 = shard0.filter((room) => percentagePoint(room) < 50).length;
    expect(Math.abs(below50 / shard0.length - 0.5)).toBeLessThan(0.05);
  });
});
