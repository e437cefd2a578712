import { type BreakerState, CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  let changes: Array<[BreakerState, BreakerState]>;
  let breaker: CircuitBreaker;

  beforeEach(() => {
    now = 1_000;
    changes = [];
    breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 500 }, () => now);
    breaker.onChange((state, previous) => changes.push([previous, state]));
  });

  it('starts closed and takes traffic', () => {
    expect(breaker.state).toBe('closed');
    expect(breaker.allowsTraffic()).toBe(true);
  });

  it('opens after the threshold of consecutive failures, not before', () => {
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.allowsTraffic()).toBe(false);
    expect(changes).toEqual([['closed', 'open']]);
  });

  it('counts only consecutive failures: a success starts the count again', () => {
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
  });

  it('goes half-open once openMs has passed, and a successful probe closes it', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    now += 499;
    expect(breaker.state).toBe('open');
    now += 1;
    expect(breaker.state).toBe('half-open');
    expect(breaker.allowsTraffic()).toBe(false);
    breaker.recordProbe(true);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });

  it('reports half-open once openMs has passed without changing anything until an outcome is recorded', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    const failingSince = breaker.failingSince;
    now += 500;
    expect(breaker.state).toBe('half-open');
    expect(breaker.state).toBe('half-open');
    expect(breaker.allowsTraffic()).toBe(false);
    expect(breaker.failingSince).toBe(failingSince);
    expect(changes).toEqual([['closed', 'open']]);
    // Still half-open later: reading did not restart any wait.
    now += 10_000;
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual([['closed', 'open']]);

    breaker.recordProbe(false);
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'open'],
    ]);
    expect(breaker.state).toBe('open');
  });

  it('re-opens from half-open on a failed probe and waits openMs again', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    now += 500;
    breaker.recordProbe(false);
    expect(breaker.state).toBe('open');
    now += 499;
    expect(breaker.state).toBe('open');
    now += 1;
    expect(breaker.state).toBe('half-open');
  });

  it('does not close an open breaker on a successful probe before openMs', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    breaker.recordProbe(true);
    expect(breaker.state).toBe('open');
  });

  it('keeps an open breaker open while probes fail, restarting its wait', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    now += 400;
    breaker.recordProbe(false);
    now += 400;
    expect(breaker.state).toBe('open');
  });

  it('counts failed probes of a closed breaker like failed publishes', () => {
    breaker.recordProbe(false);
    breaker.recordProbe(false);
    expect(breaker.state).toBe('closed');
    breaker.recordProbe(false);
    expect(breaker.state).toBe('open');
  });

  it('re-opens at once when a publish fails while half-open', () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    now += 500;
    expect(breaker.state).toBe('half-open');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });

  it('dates the failure streak from a trip, so a replay counts back from the failure, not from time zero', () => {
    now = 5_000;
    breaker.trip();
    expect(breaker.failingSince).toBe(5_000);
  });

  it('opens at once when tripped (the transport reported no connection), and waits openMs again if tripped while open', () => {
    breaker.trip();
    expect(breaker.state).toBe('open');
    now += 400;
    breaker.trip();
    now += 400;
    expect(breaker.state).toBe('open');
    now += 100;
    expect(breaker.state).toBe('half-open');
  });
});
