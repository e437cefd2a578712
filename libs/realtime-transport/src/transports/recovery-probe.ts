import { errorMessage } from '@realtime-streams/common';

export interface RecoveryProbeOptions {
  /** Interval of the probe while down. */
  intervalMs: number;
  /** Resolves when the thing answers again, rejects with why not. */
  probe: () => Promise<unknown>;
  /** Called when it goes down (it was up). */
  onDown?: (error: string) => void;
  /** Called when it comes back (it was down). */
  onUp?: () => void;
  /**
   * What a probe's outcome does; by default it marks this up or down. An owner with more to do at every outcome
   * (a bridge lane fails its tickets at every failure, not only the first) routes it through its own handlers, which
   * call `markUp`/`markDown` in turn.
   */
  outcome?: { passed(): void; failed(error: unknown): void };
}

/**
 * Something that can be down (a gateway instance behind the HTTP bridge, a Redis Cluster shard): once it failed it
 * is skipped at once, without a round trip, and probed on an interval until the probe passes. Never two probes at
 * once, so a slow probe is joined rather than piled up; no timer runs while it is up or once closed.
 */
export class RecoveryProbe {
  private downSince?: number;
  private lastError?: string;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<boolean>;
  private closed = false;

  constructor(private readonly options: RecoveryProbeOptions) {}

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** Why it failed last (kept up to date by the probe while down; cleared when it comes back). */
  get error(): string | undefined {
    return this.lastError;
  }

  /** When it went down (epoch ms), while it is down. */
  get since(): number | undefined {
    return this.downSince;
  }

  /** Records the failure; returns true when it went down now (it was up and this is not closed). */
  markDown(error: unknown): boolean {
    this.lastError = errorMessage(error);
    if (this.closed || this.isDown) return false;
    this.downSince = Date.now();
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
    this.options.onDown?.(this.lastError);
    return true;
  }

  /** Returns true when it came back now (it was down). */
  markUp(): boolean {
    if (!this.isDown) return false;
    this.downSince = undefined;
    this.lastError = undefined;
    this.stopTimer();
    this.options.onUp?.();
    return true;
  }

  /** Probes now (joining a probe under way) and marks it up or down; resolves with the outcome. */
  check(): Promise<boolean> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private async runProbe(): Promise<boolean> {
    const outcome = this.options.outcome ?? { passed: () => this.markUp(), failed: (e: unknown) => this.markDown(e) };
    try {
      await this.options.probe();
    } catch (error) {
      outcome.failed(error);
      return false;
    }
    outcome.passed();
    return true;
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
