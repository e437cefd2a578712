import { balancedHashTags, CLUSTER_SLOTS, clusterSlotOf } from './cluster-slot';
import { StreamKeys } from './stream-keys';

describe('clusterSlotOf', () => {
  it('matches the slots Redis Cluster gives (CRC16 XMODEM of the hash tag, mod 16384)', () => {
    // Values from CLUSTER KEYSLOT on Redis 7.
    expect(clusterSlotOf('foo')).toBe(12182);
    expect(clusterSlotOf('realtime:{0}')).toBe(13907);
    expect(clusterSlotOf('realtime:{5}')).toBe(9974);
    expect(clusterSlotOf('a{b}c')).toBe(clusterSlotOf('b'));
    // An empty tag is no tag: the whole key is hashed.
    expect(clusterSlotOf('{}x')).toBe(10595);
  });

  it('hashes only the first tag, so the counter key shares its stream slot', () => {
    expect(clusterSlotOf('realtime:{3.10}:seq')).toBe(clusterSlotOf('realtime:{3.10}'));
  });
});

describe('balancedHashTags', () => {
  it('puts shard i in the i-th equal part of the slot space', () => {
    for (const shards of [2, 3, 6, 16, 100]) {
      balancedHashTags(shards).forEach((tag, shard) => {
        const slot = clusterSlotOf(`{${tag}}`);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((shard * CLUSTER_SLOTS) / shards));
        expect(slot).toBeLessThan(Math.floor(((shard + 1) * CLUSTER_SLOTS) / shards));
      });
    }
  });

  it('spreads 6 shards 2-2-2 over 3 masters holding equal runs of slots, where plain numbers give 1-3-2', () => {
    const masterOf = (key: string) => Math.floor(clusterSlotOf(key) / Math.ceil(CLUSTER_SLOTS / 3));
    const count = (keys: readonly string[]) => [0, 1, 2].map((m) => keys.filter((k) => masterOf(k) === m).length);
    expect(count(new StreamKeys('realtime', 6, 'balanced').all)).toEqual([2, 2, 2]);
    expect(count(new StreamKeys('realtime', 6, 'numbered').all)).toEqual([1, 3, 2]);
  });

  it('is stable: the tags are part of the stream layout', () => {
    expect(balancedHashTags(6)).toEqual(['0.1', '1.3', '2', '3.10', '4.11', '5.4']);
    expect(new StreamKeys('realtime', 1, 'balanced').all).toEqual(['realtime:{0}']);
  });
});
