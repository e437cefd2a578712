import { GroupCommit, type WriteOutcome } from './group-commit';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A write that records its batches and whether it returned (committed) before a caller heard back. */
function recordingWrite(fail?: (item: number) => boolean) {
  const batches: number[][] = [];
  let committed = 0;
  const write = (items: readonly number[]): Array<WriteOutcome<string>> => {
    batches.push([...items]);
    const outcomes = items.map((item): WriteOutcome<string> =>
      fail?.(item) ? { ok: false, error: new Error(`item ${item} failed`) } : { ok: true, value: `stored ${item}` },
    );
    committed += items.length;
    return outcomes;
  };
  return { batches, write, committed: () => committed };
}

describe('GroupCommit', () => {
  it('writes what was submitted in one turn as one batch, answering each caller after the commit, in order', async () => {
    const recorder = recordingWrite();
    const commit = new GroupCommit(recorder.write, (error) => error as Error);
    const answered: Array<{ value: string; committedThen: number }> = [];
    const all = Array.from({ length: 50 }, (_, i) =>
      commit.submit(i).then((value) => answered.push({ value, committedThen: recorder.committed() })),
    );
    expect(recorder.batches).toEqual([]);
    await Promise.all(all);
    expect(recorder.batches).toEqual([Array.from({ length: 50 }, (_, i) => i)]);
    expect(answered.map((a) => a.value)).toEqual(Array.from({ length: 50 }, (_, i) => `stored ${i}`));
    expect(answered.every((a) => a.committedThen === 50)).toBe(true);
  });

  it('commits a later turn in a batch of its own', async () => {
    const recorder = recordingWrite();
    const commit = new GroupCommit(recorder.write, (error) => error as Error);
    const first = [commit.submit(1), commit.submit(2)];
    await nextTurn();
    const second = [commit.submit(3)];
    await Promise.all([...first, ...second]);
    expect(recorder.batches).toEqual([[1, 2], [3]]);
  });

  it('fails only the item that failed alone', async () => {
    const recorder = recordingWrite((item) => item === 2);
    const commit = new GroupCommit(recorder.write, (error) => error as Error);
    const results = await Promise.allSettled([1, 2, 3].map((item) => commit.submit(item)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'stored 1',
      'item 2 failed',
      'stored 3',
    ]);
  });

  it('fails every item of a batch whose transaction failed, with the error `failed` made', async () => {
    const sizes: number[] = [];
    const commit = new GroupCommit<number, string>(
      () => {
        throw new Error('disk I/O error');
      },
      (error, size) => {
        sizes.push(size);
        return new Error(`none of ${size} stored: ${(error as Error).message}`);
      },
    );
    const results = await Promise.allSettled([1, 2, 3].map((item) => commit.submit(item)));
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual([
      'none of 3 stored: disk I/O error',
      'none of 3 stored: disk I/O error',
      'none of 3 stored: disk I/O error',
    ]);
    expect(sizes).toEqual([3]);
  });

  it('splits a long backlog into transactions of at most maxBatch, in order', async () => {
    const recorder = recordingWrite();
    const commit = new GroupCommit(recorder.write, (error) => error as Error, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => commit.submit(i)));
    expect(recorder.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it('flush() commits what is queued at once (shutdown)', async () => {
    const recorder = recordingWrite();
    const commit = new GroupCommit(recorder.write, (error) => error as Error);
    const pending = commit.submit(7);
    commit.flush();
    expect(recorder.batches).toEqual([[7]]);
    await expect(pending).resolves.toBe('stored 7');
    await nextTurn();
    expect(recorder.batches).toEqual([[7]]);
  });
});
