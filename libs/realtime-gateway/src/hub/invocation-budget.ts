/**
 * A token bucket of hub invocations for one connection: `burst` at once, refilled at `perSecond`. It also counts
 * the refusals since the last accepted call, so a client that keeps calling past its limit can be told apart from
 * one that had a short burst.
 */
export class InvocationBudget {
  private tokens: number;
  private refilledAt: number;
  /** Refused calls since the last accepted one. */
  refusedInARow = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Takes one invocation; false when the connection is over its rate. */
  take(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow++;
    return false;
  }
}
