import { errorMessage, withTimeout } from '@realtime-streams/common';

/** How often shards that failed are tried again, and how long one try may take. */
const PROBE_INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 1000;

export interface ShardState {
  key: string;
  up: boolean;
  /** Why it is down, and since when (epoch ms). */
  error?: string;
  downSince?: number;
}

/**
 * Which shards of a Redis Cluster take appends now. A shard whose append failed (its master died, its slots are
 * down, a redirection loop) is down: its envelopes fail at once, without a round trip, so they all follow the first
 * one to the next transport in order, while the other shards keep flowing. A probe (the write probe on the shard's
 * key, routed to whoever owns its slot now, after a slot map refresh) brings it back once its slots take appends
 * again: served, and by a master that does not refuse writes (a read would pass on a master at maxmemory).
 */
export class ShardAvailability {
  private readonly down = new Map<number, { error: string; since: number }>();
  private timer?: NodeJS.Timeout;
  private probing = false;
  private closed = false;

  constructor(
    private readonly keys: readonly string[],
    private readonly probe: (key: string) => Promise<unknown>,
    private readonly refreshSlots: () => Promise<unknown>,
    /** Called when a shard that was up goes down. */
    private readonly onDown: (shard: number, error: string) => void,
    /** Called when a shard that was down takes appends again. */
    private readonly onUp: (shard: number) => void = () => undefined,
  ) {}

  isDown(shard: number): boolean {
    return this.down.has(shard);
  }

  get downCount(): number {
    return this.down.size;
  }

  markDown(shard: number, error: unknown): void {
    if (this.closed || this.down.has(shard)) return;
    const message = errorMessage(error);
    this.down.set(shard, { error: message, since: Date.now() });
    this.onDown(shard, message);
    this.schedule();
  }

  states(): ShardState[] {
    return this.keys.map((key, shard) => {
      const down = this.down.get(shard);
      return down ? { key, up: false, error: down.error, downSince: down.since } : { key, up: true };
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.probeDown();
    }, PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  private async probeDown(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      await withTimeout(this.refreshSlots(), PROBE_TIMEOUT_MS, 'slot map refresh').catch(() => undefined);
      await Promise.all(
        [...this.down.keys()].map(async (shard) => {
          try {
            await withTimeout(this.probe(this.keys[shard]), PROBE_TIMEOUT_MS, 'shard probe');
            this.down.delete(shard);
            this.onUp(shard);
          } catch (error) {
            this.down.get(shard)!.error = errorMessage(error);
          }
        }),
      );
    } finally {
      this.probing = false;
      if (this.down.size > 0) this.schedule();
    }
  }
}
