import { editDistance, nearestKey } from './nearest-key';

describe('editDistance', () => {
  it.each([
    ['shards', 'shards', 0],
    ['shard', 'shards', 1],
    ['shrads', 'shards', 1],
    ['streamKeyPrefx', 'streamKeyPrefix', 1],
    ['STREAMKEYPREFIX', 'streamKeyPrefix', 0],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['abc', '', 3],
  ])('%s -> %s is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('nearestKey', () => {
  const keys = ['url', 'shards', 'streamKeyPrefix', 'maxLen', 'retentionMs'];

  it('suggests the closest key', () => {
    expect(nearestKey('shard', keys)).toBe('shards');
    expect(nearestKey('streamPrefix', keys)).toBe('streamKeyPrefix');
    expect(nearestKey('maxlen', keys)).toBe('maxLen');
    expect(nearestKey('retentionMS', keys)).toBe('retentionMs');
  });

  it('suggests nothing when no key is close', () => {
    expect(nearestKey('foo', keys)).toBeUndefined();
    expect(nearestKey('compression', keys)).toBeUndefined();
  });
});
