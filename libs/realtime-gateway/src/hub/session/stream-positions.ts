import { compareStreamIds } from './stream-ids';

/** Where this instance's consumer stands on every shard: the id of the last entry it processed on each. */
export type PositionVector = Readonly<Record<string, string>>;

/**
 * The consumer's positions, kept for stateful reconnect: a session records where the consumer stood when it sent a
 * message, so another instance can replay from the stream exactly what came after. Snapshots are made on demand and
 * shared until the next entry moves a position (one object per entry that has a session among its recipients, not
 * one per recipient).
 */
export class StreamPositions {
  private readonly ids = new Map<string, string>();
  private snapshot?: PositionVector;

  constructor(readonly keys: readonly string[]) {}

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

  /** Whether every shard has a known position (the consumer has placed itself on each). */
  get complete(): boolean {
    return this.keys.every((key) => this.ids.has(key));
  }

  current(): PositionVector | undefined {
    if (!this.complete) return undefined;
    this.snapshot ??= Object.freeze(Object.fromEntries(this.ids));
    return this.snapshot;
  }
}
