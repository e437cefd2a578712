import { ShardAvailability } from './shard-availability';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ShardAvailability', () => {
  const keys = ['s:{0}', 's:{1}', 's:{2}'];

  it('takes a failed shard down once, tells who listens, and brings it back when its probe answers', async () => {
    const reachable = new Set(['s:{0}', 's:{2}']);
    const lost: number[] = [];
    let refreshes = 0;
    const availability = new ShardAvailability(
      keys,
      async (key) => {
        if (!reachable.has(key)) throw new Error(`connect ECONNREFUSED (${key})`);
      },
      async () => void refreshes++,
      (shard) => lost.push(shard),
    );
    availability.markDown(1, new Error('Connection is closed.'));
    availability.markDown(1, new Error('Connection is closed.'));
    expect(lost).toEqual([1]);
    expect(availability.isDown(1)).toBe(true);
    expect(availability.isDown(0)).toBe(false);
    expect(availability.states()[1]).toMatchObject({ key: 's:{1}', up: false, error: 'Connection is closed.' });

    await sleep(300);
    // Still unreachable: the probe's error is what health shows now; the slot map was refreshed first.
    expect(availability.states()[1]).toMatchObject({ up: false, error: 'connect ECONNREFUSED (s:{1})' });
    expect(refreshes).toBeGreaterThan(0);

    reachable.add('s:{1}');
    await sleep(300);
    expect(availability.isDown(1)).toBe(false);
    expect(availability.downCount).toBe(0);
    availability.close();
  });

  it('stops probing once closed', async () => {
    let probes = 0;
    const availability = new ShardAvailability(
      keys,
      async () => {
        probes++;
        throw new Error('down');
      },
      async () => undefined,
      () => undefined,
    );
    availability.markDown(0, new Error('down'));
    availability.close();
    await sleep(300);
    expect(probes).toBe(0);
    availability.markDown(2, new Error('down'));
    expect(availability.isDown(2)).toBe(false);
  });
});
