import { StreamKeys, userShardsOf } from './stream-keys';

describe('StreamKeys: which shard a target maps to', () => {
  it('puts users and everyone on the first eighth of the shards and groups on the rest', () => {
    const keys = new StreamKeys('rt', 64);
    expect(keys.userShards).toBe(8);
    const users = Array.from({ length: 2000 }, (_, i) => keys.shardOfTarget(`user:u${i}`));
    const groups = Array.from({ length: 2000 }, (_, i) => keys.shardOfTarget(`group:room:${i}`));
    expect(new Set(users)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => i)));
    expect(new Set(groups)).toEqual(new Set(Array.from({ length: 56 }, (_, i) => 8 + i)));
    expect(keys.shardOfTarget('all')).toBeLessThan(8);
    expect(keys.forTarget('group:room:1')).toBe(keys.all[keys.shardOfTarget('group:room:1')]);
  });

  it('hashes every target over every shard below 16 shards, as 0.3 did', () => {
    const one = new StreamKeys('rt', 1);
    expect(['all', 'user:a', 'group:b'].map((t) => one.shardOfTarget(t))).toEqual([0, 0, 0]);
    expect([1, 6, 15, 16, 1024].map(userShardsOf)).toEqual([0, 0, 0, 2, 128]);
    const six = new StreamKeys('rt', 6);
    const users = new Set(Array.from({ length: 500 }, (_, i) => six.shardOfTarget(`user:u${i}`)));
    const groups = new Set(Array.from({ length: 500 }, (_, i) => six.shardOfTarget(`group:g${i}`)));
    expect([users.size, groups.size]).toEqual([6, 6]);
  });

  it('maps a target the same way every time, in every process', () => {
    const a = new StreamKeys('rt', 256);
    const b = new StreamKeys('rt', 256, 'numbered');
    for (const target of ['group:room:42', 'user:alice', 'all']) expect(a.forTarget(target)).toBe(b.forTarget(target));
  });
});
