import { SessionStore, type StreamEntries } from './session-store';

/** The store's own connection (never connected here: ioredis connects lazily), to watch what it is asked. */
const connectionOf = (store: SessionStore) =>
  (store as unknown as { redis: { xrange: (...args: unknown[]) => unknown; pipeline: () => unknown } }).redis;

describe('SessionStore.entriesAfter', () => {
  const after = { 'realtime:{a}:0': '5-0', 'realtime:{b}:1': '7-1' };
  const keys = Object.keys(after);
  const shards: Record<string, StreamEntries> = {
    'realtime:{a}:0': [['6-0', ['e', '{}']]],
    'realtime:{b}:1': [],
  };
  let store: SessionStore | undefined;

  afterEach(async () => {
    await store?.stop();
    store = undefined;
  });

  it('reads each shard with a command of its own on a Redis Cluster (a pipeline cannot span nodes)', async () => {
    store = new SessionStore({ url: '', clusterNodes: ['127.0.0.1:7000'] }, 'realtime', 'gw-1', 60_000);
    const redis = connectionOf(store);
    const pipeline = jest.spyOn(redis, 'pipeline');
    const xrange = jest
      .spyOn(redis, 'xrange')
      .mockImplementation((key: unknown) => Promise.resolve(shards[key as string]));
    expect(await store.entriesAfter(keys, after, 11)).toEqual([shards[keys[0]], shards[keys[1]]]);
    expect(pipeline).not.toHaveBeenCalled();
    expect(xrange.mock.calls).toEqual([
      ['realtime:{a}:0', '(5-0', '+', 'COUNT', 11],
      ['realtime:{b}:1', '(7-1', '+', 'COUNT', 11],
    ]);
  });

  it('rejects when one shard cannot be read on a Redis Cluster', async () => {
    store = new SessionStore({ url: '', clusterNodes: ['127.0.0.1:7000'] }, 'realtime', 'gw-1', 60_000);
    const redis = connectionOf(store);
    jest
      .spyOn(redis, 'xrange')
      .mockImplementation((key: unknown) =>
        key === keys[1] ? Promise.reject(new Error('CLUSTERDOWN')) : Promise.resolve([]),
      );
    await expect(store.entriesAfter(keys, after, 11)).rejects.toThrow('CLUSTERDOWN');
  });

  it('reads every shard in one pipeline on a single node', async () => {
    store = new SessionStore('redis://127.0.0.1:6390', 'realtime', 'gw-1', 60_000);
    const queued: unknown[][] = [];
    const fake = {
      xrange: (...args: unknown[]) => queued.push(args),
      exec: async () => queued.map(([key]) => [null, shards[key as string]]),
    };
    const pipeline = jest.spyOn(connectionOf(store), 'pipeline').mockReturnValue(fake);
    expect(await store.entriesAfter(keys, after, 3)).toEqual([shards[keys[0]], shards[keys[1]]]);
    expect(pipeline).toHaveBeenCalledTimes(1);
    expect(queued).toEqual([
      ['realtime:{a}:0', '(5-0', '+', 'COUNT', 3],
      ['realtime:{b}:1', '(7-1', '+', 'COUNT', 3],
    ]);
  });
});
