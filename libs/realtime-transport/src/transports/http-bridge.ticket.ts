import { TransportPublishError } from '../errors/transport-publish.error';

/**
 * One `publish()` of the HTTP bridge. It resolves as soon as one lane (one gateway instance) acknowledged the whole
 * batch, and rejects once none of the lanes it waits for can (each failed or gave the batch up) or when the
 * deadline passes first: "delivered" means at least one instance took it, as the fallback chain expects.
 *
 * It also counts what the other lanes still owe: every envelope a lane queued is outstanding until that lane
 * delivered it or gave it up and told its instance. `whenSettled()` resolves once none is (`true`), or once a lane
 * dropped one it will never deliver nor report (`false`: the api shuts down), so the outbox removes a record only
 * when every instance that needed it has it or knows it missed it.
 */
export class BridgeTicket<Lane extends object = object> {
  readonly promise: Promise<void>;
  private state: 'pending' | 'acked' | 'rejected' = 'pending';
  private readonly waiting: Set<Lane>;
  private readonly reasons: string[] = [];
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;
  /** (lane, envelope) pairs queued and not delivered, nor given up and reported, yet. */
  private outstanding = 0;
  private outcome?: boolean;
  private settledPromise?: Promise<boolean>;
  private settle?: (complete: boolean) => void;
  /** Called once, at the first acknowledgement, before `promise` resolves. */
  onAcked?: () => void;
  /** Called once when the outcome is known (see `whenSettled`). */
  onSettled?: (complete: boolean) => void;

  constructor(
    waitFor: Iterable<Lane>,
    timeoutMs: number,
    /** Called once when the ticket is rejected: the chain owns the batch again, lanes should forget it. */
    private readonly onRejected: (ticket: BridgeTicket<Lane>) => void,
  ) {
    this.waiting = new Set(waitFor);
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(
      () => this.fail(`no gateway instance acknowledged the batch within ${timeoutMs} ms`),
      timeoutMs,
    );
    this.timer.unref();
  }

  get settled(): boolean {
    return this.state !== 'pending';
  }

  get rejected(): boolean {
    return this.state === 'rejected';
  }

  /** Whether every lane is done with the batch (see `whenSettled`). */
  get allLanesSettled(): boolean {
    return this.outcome !== undefined;
  }

  /** A lane delivered every envelope of the batch. */
  acked(): void {
    if (this.state !== 'pending') return;
    this.state = 'acked';
    clearTimeout(this.timer);
    const onAcked = this.onAcked;
    this.onAcked = undefined;
    onAcked?.();
    this.resolve();
  }

  /** A lane this ticket waits for will not acknowledge it in time (its POST failed, it dropped the batch). */
  laneFailed(lane: Lane, reason: string): void {
    if (this.state !== 'pending' || !this.waiting.delete(lane)) return;
    this.reasons.push(reason);
    if (this.waiting.size === 0) this.fail(this.reasons.join('; '));
  }

  /** A lane queued `count` envelopes of the batch. */
  queued(count: number): void {
    this.outstanding += count;
  }

  /** `count` envelopes a lane queued are done with: delivered, given up and reported, or never to be replayed. */
  laneSettled(count: number): void {
    this.outstanding -= count;
    if (this.outstanding <= 0) this.conclude(true);
  }

  /** A lane dropped envelopes it will neither deliver nor report (shutdown): the batch is never settled. */
  abandoned(): void {
    this.conclude(false);
  }

  /** Resolves `true` once every lane delivered or reported what it queued of the batch, `false` if one never will. */
  whenSettled(): Promise<boolean> {
    if (this.outcome !== undefined) return Promise.resolve(this.outcome);
    this.settledPromise ??= new Promise<boolean>((resolve) => (this.settle = resolve));
    return this.settledPromise;
  }

  private conclude(complete: boolean): void {
    if (this.outcome !== undefined) return;
    this.outcome = complete;
    this.settle?.(complete);
    this.onSettled?.(complete);
  }

  private fail(message: string): void {
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    clearTimeout(this.timer);
    this.reject(new TransportPublishError('http-bridge', message));
    this.onRejected(this);
  }
}
