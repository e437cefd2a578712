export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Time the breaker stays open before a probe may close it. */
  openMs: number;
}

export type BreakerListener = (state: BreakerState, previous: BreakerState) => void;

/**
 * Circuit breaker of one transport, fed by real publish outcomes and by the periodic health probe.
 *
 * closed --(threshold consecutive failures)--> open --(openMs elapsed)--> half-open
 * half-open --(probe succeeds)--> closed;  half-open --(probe or publish fails)--> open
 *
 * Only a closed breaker takes traffic: while half-open, the probe alone decides, so envelopes are never used to
 * test a transport that just failed.
 *
 * Reading `state` (or `allowsTraffic()`) never changes anything: health checks read it as often as they like. The
 * open -> half-open step is taken, and announced to the listeners, by the next method that records an outcome,
 * so that method acts on the state `state` reports.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private streakStartedAt = 0;
  private openedAt = 0;
  private readonly listeners: BreakerListener[] = [];

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state now: half-open once an open breaker waited `openMs`, even before an outcome made that official. */
  get state(): BreakerState {
    return this.openTimeElapsed() ? 'half-open' : this.current;
  }

  /** When the current run of consecutive failures began (undefined while the last outcome was a success). */
  get failingSince(): number | undefined {
    return this.consecutiveFailures > 0 ? this.streakStartedAt : undefined;
  }

  /** Open and half-open both refuse traffic, so this needs no open -> half-open step. */
  allowsTraffic(): boolean {
    return this.current === 'closed';
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
  }

  recordFailure(): void {
    this.halfOpenIfDue();
    if (this.consecutiveFailures === 0) this.streakStartedAt = this.now();
    this.consecutiveFailures++;
    if (this.current === 'half-open' || this.consecutiveFailures >= this.settings.failureThreshold) {
      this.open();
    }
  }

  /** Opens now, whatever the failure count: the transport reported that it has no connection. */
  trip(): void {
    this.halfOpenIfDue();
    if (this.current !== 'open') {
      // A trip starts a failure streak too: the replay window counts back from it.
      if (this.consecutiveFailures === 0) this.streakStartedAt = this.now();
      this.consecutiveFailures++;
      this.open();
    } else {
      this.openedAt = this.now();
    }
  }

  /** Outcome of a health probe. A success closes a half-open breaker; a failure counts like a publish failure. */
  recordProbe(healthy: boolean): void {
    this.halfOpenIfDue();
    const state = this.current;
    if (!healthy) {
      if (state === 'open') this.openedAt = this.now();
      else this.recordFailure();
      return;
    }
    if (state === 'half-open') {
      this.consecutiveFailures = 0;
      this.transition('closed');
    } else if (state === 'closed') {
      this.consecutiveFailures = 0;
    }
  }

  onChange(listener: BreakerListener): void {
    this.listeners.push(listener);
  }

  private openTimeElapsed(): boolean {
    return this.current === 'open' && this.now() - this.openedAt >= this.settings.openMs;
  }

  /** Takes the open -> half-open step `state` already reports, so listeners hear of it before the outcome. */
  private halfOpenIfDue(): void {
    if (this.openTimeElapsed()) this.transition('half-open');
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    for (const listener of this.listeners) listener(next, previous);
  }
}
