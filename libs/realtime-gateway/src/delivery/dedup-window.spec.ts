import { DedupWindow } from './dedup-window';

describe('DedupWindow', () => {
  it('reports an id seen again within the window as a duplicate', () => {
    const window = new DedupWindow(1000, 100, () => 0);
    expect(window.isDuplicate('a')).toBe(false);
    expect(window.isDuplicate('a')).toBe(true);
    expect(window.isDuplicate('b')).toBe(false);
  });

  it('forgets ids older than the time bound', () => {
    let now = 0;
    const window = new DedupWindow(1000, 100, () => now);
    window.isDuplicate('a');
    now = 1001;
    expect(window.isDuplicate('a')).toBe(false);
  });

  it('keeps at most maxEntries ids, forgetting the oldest', () => {
    const window = new DedupWindow(60_000, 3, () => 0);
    for (const id of ['a', 'b', 'c', 'd']) window.isDuplicate(id);
    expect(window.size).toBe(3);
    expect(window.isDuplicate('d')).toBe(true);
    expect(window.isDuplicate('a')).toBe(false);
  });

  it('stays bounded under a flood of distinct ids', () => {
    const window = new DedupWindow(60_000, 1000, () => 0);
    for (let i = 0; i < 100_000; i++) window.isDuplicate(`id-${i}`);
    expect(window.size).toBe(1000);
  });
});
