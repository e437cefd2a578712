import { TransportPublishError } from '../errors/transport-publish.error';

/**
 * One `publish()` of the HTTP bridge. It resolves as soon as one lane (one gateway instance) acknowledged the whole
 * batch, and rejects once none of the lanes it waits for can (each failed or gave the batch up) or when the
 * deadline passes first: "delivered" means at least one instance took it, as the fallback chain expects.
 */
export class BridgeTicket<Lane extends object = object> {
  readonly promise: Promise<void>;
  private state: 'pending' | 'acked' | 'rejected' = 'pending';
  private readonly waiting: Set<Lane>;
  private readonly reasons: string[] = [];
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;

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

  /** A lane delivered every envelope of the batch. */
  acked(): void {
    if (this.state !== 'pending') return;
    this.state = 'acked';
    clearTimeout(this.timer);
    this.resolve();
  }

  /** A lane this ticket waits for will not acknowledge it in time (its POST failed, it dropped the batch). */
  laneFailed(lane: Lane, reason: string): void {
    if (this.state !== 'pending' || !this.waiting.delete(lane)) return;
    this.reasons.push(reason);
    if (this.waiting.size === 0) this.fail(this.reasons.join('; '));
  }

  private fail(message: string): void {
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    clearTimeout(this.timer);
    this.reject(new TransportPublishError('http-bridge', message));
    this.onRejected(this);
  }
}
