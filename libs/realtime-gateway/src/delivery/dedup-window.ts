/**
 * Envelope ids seen lately, bounded by age and by count. Ids arrive in time order, so the oldest is always first in
 * the map's insertion order and eviction is O(1) per id.
 */
export class DedupWindow {
  private readonly seenAt = new Map<string, number>();
  /** When the first (oldest) id was seen; Infinity while empty. */
  private oldestAt = Infinity;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seenAt.size;
  }

  /** Records the id; true when it was already seen within the window (a duplicate to drop). */
  isDuplicate(id: string): boolean {
    const now = this.now();
    this.evict(now);
    if (this.seenAt.has(id)) return true;
    if (this.seenAt.size === 0) this.oldestAt = now;
    this.seenAt.set(id, now);
    return false;
  }

  private evict(now: number): void {
    const oldest = now - this.ttlMs;
    // The common case (nothing to forget) without walking the map: this runs for every envelope delivered.
    if (this.oldestAt > oldest && this.seenAt.size < this.maxEntries) return;
    for (const [id, at] of this.seenAt) {
      if (at > oldest && this.seenAt.size < this.maxEntries) {
        this.oldestAt = at;
        return;
      }
      this.seenAt.delete(id);
    }
    this.oldestAt = Infinity;
  }
}
