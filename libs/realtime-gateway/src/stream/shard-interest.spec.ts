import { StreamKeys } from '@realtime-streams/contracts';
import { ShardInterest, type ShardInterestMetrics, type ShardReading } from './shard-interest';

const KEYS = new StreamKeys('rt', 8);

/** A reading whose starts and stops are recorded; a start fails while `failing` is set. */
class FakeReading implements ShardReading {
  readonly started: string[] = [];
  readonly since: Array<number | undefined> = [];
  readonly stopped: string[] = [];
  failing = false;
  startDelayMs = 0;

  async startReading(key: string, since?: number): Promise<void> {
    await sleep(this.startDelayMs);
    if (this.failing) throw new Error('connect ECONNREFUSED');
    this.started.push(key);
    this.since.push(since);
  }

  async stopReading(key: string): Promise<void> {
    this.stopped.push(key);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `done()` holds, for at most `timeoutMs`: what should happen is waited for, not timed. */
async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(10);
}

function setup(timing: Partial<ConstructorParameters<typeof ShardInterest>[1]> = {}) {
  const metrics: ShardInterestMetrics & { read: number[] } = {
    read: [],
    shardsRead: (count) => metrics.read.push(count),
    shardReading: () => undefined,
  };
  const interest = new ShardInterest(KEYS, { lingerMs: 50, holdMs: 50, ...timing }, metrics);
  const reading = new FakeReading();
  interest.readWith(reading);
  return { interest, reading, metrics };
}

describe('ShardInterest', () => {
  it('starts the shard of a prepared target before the prepare resolves, once however many prepare it', async () => {
    const { interest, reading } = setup();
    reading.startDelayMs = 20;
    const first = interest.prepare(['group:room:1']);
    const second = interest.prepare(['group:room:1']);
    expect(reading.started).toEqual([]);
    await Promise.all([first, second]);
    expect(reading.started).toEqual([KEYS.forTarget('group:room:1')]);
    expect(interest.readKeys()).toEqual([KEYS.forTarget('group:room:1')]);
  });

  it('reads a shard while a target of it is present, and stops it only after the linger', async () => {
    // A linger far longer than the steps below take, even on a loaded machine.
    const { interest, reading, metrics } = setup({ lingerMs: 1500 });
    const key = KEYS.forTarget('group:room:1');
    await interest.prepare(['group:room:1']);
    interest.targetChanged('group:room:1', true);
    await sleep(200);
    expect(reading.stopped).toEqual([]);
    interest.targetChanged('group:room:1', false);
    await sleep(50);
    // Back within the linger (a page reload): never stopped.
    interest.targetChanged('group:room:1', true);
    await sleep(1700);
    expect(reading.stopped).toEqual([]);
    interest.targetChanged('group:room:1', false);
    const left = Date.now();
    await until(() => reading.stopped.length > 0);
    expect(Date.now() - left).toBeGreaterThanOrEqual(1400);
    expect(reading.stopped).toEqual([key]);
    expect(interest.read).toBe(0);
    expect(metrics.read).toEqual([1, 0]);
  });

  it('stops a prepared shard nobody became present on once its hold is over', async () => {
    const { interest, reading } = setup({ holdMs: 40 });
    await interest.prepare(['user:alice']);
    await until(() => reading.stopped.length > 0);
    expect(reading.stopped).toEqual([KEYS.forTarget('user:alice')]);
  });

  it('starts a shard again when a target comes back after its reading stopped', async () => {
    // The target comes and goes well within the prepare's hold; the reading stops when the hold is over.
    const { interest, reading } = setup({ lingerMs: 0, holdMs: 500 });
    const key = KEYS.forTarget('group:room:1');
    await interest.prepare(['group:room:1']);
    interest.targetChanged('group:room:1', true);
    interest.targetChanged('group:room:1', false);
    await until(() => reading.stopped.length > 0);
    expect(reading.stopped).toEqual([key]);
    await interest.prepare(['group:room:1']);
    expect(reading.started).toEqual([key, key]);
  });

  it('lets a prepare go on when Redis is unreachable, and reads from the first failed start once one succeeds', async () => {
    const { interest, reading } = setup({ prepareWaitMs: 3000 });
    reading.failing = true;
    const before = Date.now();
    await interest.prepare(['group:room:1']);
    // As soon as the start failed, not after the 3 s a hanging start is waited for; a second prepare at once.
    expect(Date.now() - before).toBeLessThan(500);
    await interest.prepare(['group:room:1']);
    expect(Date.now() - before).toBeLessThan(500);
    interest.targetChanged('group:room:1', true);
    await sleep(100);
    reading.failing = false;
    // Retried with back-off (500 ms).
    await until(() => reading.started.length > 0);
    expect(reading.started).toEqual([KEYS.forTarget('group:room:1')]);
    // From the time of the first failed start (before the retry's 500 ms back-off): what Redis took since is read.
    expect(reading.since[0]).toBeGreaterThanOrEqual(before);
    expect(reading.since[0]).toBeLessThan(Date.now() - 400);
  });

  it('reads a target present before its shard was prepared (a handshake slower than the hold) from then on', async () => {
    const { interest, reading } = setup();
    const before = Date.now();
    interest.targetChanged('user:slow', true);
    await until(() => reading.started.length > 0);
    expect(reading.started).toEqual([KEYS.forTarget('user:slow')]);
    expect(reading.since[0]).toBeGreaterThanOrEqual(before);
  });

  it('resolves prepares at once before the consumer binds it, and after it stopped', async () => {
    const metrics = { shardsRead: () => undefined, shardReading: () => undefined };
    const unbound = new ShardInterest(KEYS, { lingerMs: 0, holdMs: 0 }, metrics);
    await unbound.prepare(['all']);
    const { interest, reading } = setup();
    interest.stop();
    await interest.prepare(['all']);
    expect(reading.started).toEqual([]);
  });
});
