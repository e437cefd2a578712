import { ConsumerStatus, HEALTH_GRACE_MS } from './consumer-status';
import { sequenceOf, StreamSequences } from './stream-sequences';

describe('StreamSequences', () => {
  it('reports a jump as the exact range missed, and moves on from the new number', () => {
    const sequences = new StreamSequences();
    sequences.set('s', { n: 41 });
    expect(sequences.check('s', '1-0', 42, true)).toEqual({ kind: 'in-order' });
    expect(sequences.check('s', '2-0', 46, true)).toEqual({ kind: 'gap', from: 43, to: 45 });
    expect(sequences.lastSequence('s')).toBe(46);
    expect(sequences.get('s')).toEqual({ n: 46, id: '2-0' });
  });

  it('starts at the first numbered entry when nothing is known, and skips entries without a number', () => {
    const sequences = new StreamSequences();
    expect(sequences.check('s', '1-0', undefined, true)).toEqual({ kind: 'in-order' });
    expect(sequences.lastSequence('s')).toBeUndefined();
    expect(sequences.check('s', '2-0', 7, true)).toEqual({ kind: 'in-order' });
    expect(sequences.check('s', '3-0', undefined, true)).toEqual({ kind: 'in-order' });
    expect(sequences.check('s', '4-0', 8, true)).toEqual({ kind: 'in-order' });
  });

  it('takes a number at or below the last one as a restart for new entries, not for own pending ones', () => {
    const sequences = new StreamSequences();
    sequences.set('s', { n: 10 });
    expect(sequences.check('s', '1-0', 9, false)).toEqual({ kind: 'in-order' });
    expect(sequences.lastSequence('s')).toBe(10);
    expect(sequences.check('s', '2-0', 3, true)).toEqual({ kind: 'restarted', n: 3, previous: 10 });
    expect(sequences.lastSequence('s')).toBe(3);
  });

  it('drops an entry read before, handed out again after a failover (its id is not past the last one read)', () => {
    const sequences = new StreamSequences();
    sequences.set('s', { n: 45, id: '100-3' });
    expect(sequences.check('s', '100-3', 45, true)).toEqual({ kind: 'repeat' });
    expect(sequences.check('s', '100-1', 43, true)).toEqual({ kind: 'repeat' });
    expect(sequences.get('s')).toEqual({ n: 45, id: '100-3' });
  });

  it('tells a lost tail (a later id numbered at or below the last read, above 1) from a restart from 1', () => {
    const sequences = new StreamSequences();
    sequences.set('s', { n: 45, id: '100-3' });
    // The promoted replica had up to 43: its next entry is 44 again, with a later id.
    expect(sequences.check('s', '205-0', 44, true)).toEqual({ kind: 'tail-lost', n: 44, previous: 45 });
    expect(sequences.get('s')).toEqual({ n: 44, id: '205-0' });
    expect(sequences.check('s', '206-0', 45, true)).toEqual({ kind: 'in-order' });
    expect(sequences.check('s', '300-0', 1, true)).toEqual({ kind: 'restarted', n: 1, previous: 45 });
  });

  it('reads `n` only as a positive integer at a field name position', () => {
    expect(sequenceOf(['e', '{}', 'n', '12'])).toBe(12);
    expect(sequenceOf(['n', 'x'])).toBeUndefined();
    expect(sequenceOf(['n', '0'])).toBeUndefined();
    expect(sequenceOf(['n', '-3'])).toBeUndefined();
    expect(sequenceOf(['n', '1.5'])).toBeUndefined();
    expect(sequenceOf(['n', '99999999999999999999'])).toBeUndefined();
    expect(sequenceOf(['e', 'n', 'x', '4'])).toBeUndefined();
    expect(sequenceOf(null)).toBeUndefined();
  });
});

describe('ConsumerStatus', () => {
  it('is failing from an error until a read succeeds, and while a read overruns BLOCK + grace', () => {
    const status = new ConsumerStatus(200);
    status.started(0);
    status.readStarted(200, 0);
    expect(status.health(true, 100).state).toBe('running');
    expect(status.health(true, 200 + HEALTH_GRACE_MS + 1)).toMatchObject({
      state: 'failing',
      lastError: expect.stringContaining('XREADGROUP'),
    });
    status.readSucceeded(1500);
    expect(status.health(true, 1500)).toEqual({ state: 'running', lastReadMsAgo: 0 });
    status.failed(new Error('MOVED 1234 10.0.0.2:6379'));
    expect(status.health(true, 1600)).toEqual({
      state: 'failing',
      lastError: 'MOVED 1234 10.0.0.2:6379',
      lastReadMsAgo: 100,
    });
    // Back-off waits are not reads: still failing much later.
    expect(status.health(true, 60_000).state).toBe('failing');
    expect(status.health(false, 60_000).state).toBe('stopped');
  });
});
