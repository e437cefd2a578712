import { compareStreamIds } from './stream-ids';

/** Where this instance's consumer stands on every shard it reads: the id of the last entry it processed on each. */
export type PositionVector = Readonly<Record<string, string>>;

/**
 * The consumer's positions, kept for stateful reconnect: a session records where the consumer stood when it sent a
 * message, so another instance can replay from the stream exactly what came after. Snapshots are made on demand and
 * shared until the next entry moves a position (one object per entry that has a session among its recipients, not
 * one per recipient).
 *
 * With interest routing the shards read change: a snapshot holds the shards read now, each placed where its reading
 * started (everything before was nobody's here), so a session's record never carries shards it cannot need.
 */
export class StreamPositions {
  private readonly ids = new Map<string, string>();
  private readonly read: Set<string>;
  private snapshot?: PositionVector;

  /** `routed`: no shard is read until `reading(key, true)`; else every one of `keys` is, always. */
  constructor(
    readonly keys: readonly string[],
    routed = false,
  ) {
    this.read = new Set(routed ? [] : keys);
  }

  /** Moves a shard's position forward (re-read pending entries are older and do not move it back). */
  advance(key: string, id: string): void {
    const current = this.ids.get(key);
    if (current !== undefined && compareStreamIds(id, current) <= 0) return;
    this.ids.set(key, id);
    this.snapshot = undefined;
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  /**
   * A shard's reading started at `from` (its last entry then: what came before was nobody's here), or stopped: it
   * leaves the snapshots, and its position is forgotten (a restart places it again).
   */
  reading(key: string, from: string | undefined): void {
    this.snapshot = undefined;
    if (from === undefined) {
      this.read.delete(key);
      this.ids.delete(key);
      return;
    }
    this.read.add(key);
    this.advance(key, from);
  }

  /** Whether every shard read has a known position (the consumer has placed itself on each). */
  get complete(): boolean {
    for (const key of this.read) if (!this.ids.has(key)) return false;
    return true;
  }

  current(): PositionVector | undefined {
    if (!this.complete) return undefined;
    if (!this.snapshot) {
      const vector: Record<string, string> = {};
      for (const key of this.read) vector[key] = this.ids.get(key)!;
      this.snapshot = Object.freeze(vector);
    }
    return this.snapshot;
  }
}
