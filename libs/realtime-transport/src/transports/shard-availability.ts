import { withTimeout } from '@realtime-streams/common';
import { RecoveryProbe } from './recovery-probe';

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
  private readonly shards: RecoveryProbe[];
  /** One slot map refresh for the shards probed together (a dead master takes several down at once). */
  private refreshing?: Promise<unknown>;
  private closed = false;

  constructor(
    private readonly keys: readonly string[],
    probe: (key: string) => Promise<unknown>,
    private readonly refreshSlots: () => Promise<unknown>,
    /** Called when a shard that was up goes down. */
    onDown: (shard: number, error: string) => void,
    /** Called when a shard that was down takes appends again. */
    onUp: (shard: number) => void = () => undefined,
  ) {
    this.shards = keys.map(
      (key, shard) =>
        new RecoveryProbe({
          intervalMs: PROBE_INTERVAL_MS,
          probe: async () => {
            await this.refresh();
            await withTimeout(probe(key), PROBE_TIMEOUT_MS, 'shard probe');
          },
          onDown: (error) => onDown(shard, error),
          onUp: () => onUp(shard),
        }),
    );
  }

  isDown(shard: number): boolean {
    return this.shards[shard].isDown;
  }

  get downCount(): number {
    return this.shards.filter((shard) => shard.isDown).length;
  }

  markDown(shard: number, error: unknown): void {
    // The first failure is what health shows until a probe says more.
    if (this.closed || this.shards[shard].isDown) return;
    this.shards[shard].markDown(error);
  }

  states(): ShardState[] {
    return this.keys.map((key, shard) => {
      const { isDown, error, since } = this.shards[shard];
      return isDown ? { key, up: false, error, downSince: since } : { key, up: true };
    });
  }

  close(): void {
    this.closed = true;
    for (const shard of this.shards) shard.close();
  }

  /** Its failure is not the shard's: the probe that follows says whether the shard takes appends. */
  private refresh(): Promise<unknown> {
    this.refreshing ??= withTimeout(this.refreshSlots(), PROBE_TIMEOUT_MS, 'slot map refresh')
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}
