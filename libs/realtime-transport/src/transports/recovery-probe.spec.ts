import { RecoveryProbe } from './recovery-probe';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RecoveryProbe', () => {
  it('goes down once, probes on its interval with the latest error kept, and comes back when the probe passes', async () => {
    let reachable = false;
    let probes = 0;
    const events: string[] = [];
    const availability = new RecoveryProbe({
      intervalMs: 50,
      probe: async () => {
        probes++;
        if (!reachable) throw new Error(`ECONNREFUSED ${probes}`);
      },
      onDown: (error) => events.push(`down: ${error}`),
      onUp: () => events.push('up'),
    });
    expect(availability.isDown).toBe(false);
    expect(availability.markDown(new Error('socket hang up'))).toBe(true);
    expect(availability.markDown(new Error('again'))).toBe(false);
    expect(availability.isDown).toBe(true);
    expect(availability.since).toBeDefined();
    expect(events).toEqual(['down: socket hang up']);

    await sleep(130);
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(availability.error).toMatch(/^ECONNREFUSED/);

    reachable = true;
    await sleep(80);
    expect(availability.isDown).toBe(false);
    expect(availability.error).toBeUndefined();
    expect(events).toEqual(['down: socket hang up', 'up']);
    const after = probes;
    await sleep(80);
    expect(probes).toBe(after);
    availability.close();
  });

  it('never runs two probes at once', async () => {
    let probes = 0;
    let release!: () => void;
    const availability = new RecoveryProbe({
      intervalMs: 1000,
      probe: () => {
        probes++;
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const first = availability.check();
    const second = availability.check();
    expect(probes).toBe(1);
    release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
  });

  it('routes probe outcomes through its owner when told to', async () => {
    const outcomes: string[] = [];
    const availability = new RecoveryProbe({
      intervalMs: 1000,
      probe: async () => {
        throw new Error('503');
      },
      outcome: { passed: () => outcomes.push('passed'), failed: (error) => outcomes.push(String(error)) },
    });
    expect(await availability.check()).toBe(false);
    expect(outcomes).toEqual(['Error: 503']);
    expect(availability.isDown).toBe(false);
  });

  it('stops probing once closed and never goes down after', async () => {
    let probes = 0;
    const availability = new RecoveryProbe({
      intervalMs: 20,
      probe: async () => {
        probes++;
        throw new Error('down');
      },
    });
    availability.markDown(new Error('down'));
    availability.close();
    await sleep(60);
    expect(probes).toBe(0);
    availability.markUp();
    expect(availability.markDown(new Error('down'))).toBe(false);
    expect(availability.isDown).toBe(false);
  });
});
