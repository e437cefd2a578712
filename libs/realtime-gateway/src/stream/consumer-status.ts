import { errorMessage } from '@realtime-streams/common';

/**
 * Time a read may take past its BLOCK before health reports the consumer failing. Shorter than the time after
 * which the connection is replaced (3 s past BLOCK): reporting is cheap, reconnecting is not.
 */
export const HEALTH_GRACE_MS = 1000;

export type ConsumerState = 'running' | 'failing' | 'stopped';

export interface ConsumerHealth {
  state: ConsumerState;
  /** Why it is failing: the last error, or the read that overran its deadline. */
  lastError?: string;
  /** Time since the last read that succeeded (null: none yet). */
  lastReadMsAgo: number | null;
}

/**
 * What the consumer loop last did, kept as timestamps so that health is computed on request: a read that has not
 * answered by BLOCK + grace shows as failing at once, whatever the loop is waiting for.
 */
export class ConsumerStatus {
  private startedAt = 0;
  private lastReadAt?: number;
  private lastError?: string;
  private reading?: { since: number; deadline: number };
  /** Waiting for a shard to read (interest routing with no member here): healthy, not stalled. */
  private idling = false;

  constructor(private readonly blockMs: number) {}

  started(now = Date.now()): void {
    this.startedAt = now;
    this.reading = undefined;
  }

  /** The loop has no shard to read and waits for one (interest routing). */
  idle(): void {
    this.reading = undefined;
    this.lastError = undefined;
    this.idling = true;
  }

  readStarted(blockMs: number | undefined, now = Date.now()): void {
    this.idling = false;
    this.reading = { since: now, deadline: now + (blockMs ?? 0) + HEALTH_GRACE_MS };
  }

  /** A read answered: whatever failed before is over. */
  readSucceeded(now = Date.now()): void {
    this.reading = undefined;
    this.lastReadAt = now;
    this.lastError = undefined;
  }

  /** A read or any other command of the loop failed; stays failing until a read succeeds. */
  failed(error: unknown): void {
    this.reading = undefined;
    this.lastError = errorMessage(error);
  }

  health(alive: boolean, now = Date.now()): ConsumerHealth {
    const lastReadMsAgo = this.lastReadAt === undefined ? null : now - this.lastReadAt;
    if (!alive) return { state: 'stopped', lastReadMsAgo };
    let problem = this.lastError;
    if (!problem && this.reading && now > this.reading.deadline) {
      problem = `XREADGROUP has not answered for ${now - this.reading.since} ms (BLOCK ${this.blockMs} ms)`;
    }
    // Between reads the loop sets up (connect, heartbeat, groups): each step has a timeout, but none may hide a
    // consumer that has not read for longer than one read may take.
    const since = this.lastReadAt ?? this.startedAt;
    if (!problem && !this.reading && !this.idling && now - since > this.blockMs + HEALTH_GRACE_MS) {
      problem = `no read for ${now - since} ms`;
    }
    return problem ? { state: 'failing', lastError: problem, lastReadMsAgo } : { state: 'running', lastReadMsAgo };
  }
}
