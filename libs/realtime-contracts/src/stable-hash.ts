/**
 * 32-bit FNV-1a over UTF-16 code units, finished with murmur3's avalanche step so that keys differing in one
 * character ("room:41", "room:42") land far apart. Stable across processes and restarts: routing decisions that
 * depend on it (shard, percentage) never move a room.
 */
export function stableHash(key: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed of the percentage decision, distinct from the shard one so the two choices are independent. */
const PERCENTAGE_SEED = 0x9e3779b9;

/** Where a key falls on a 0-100 scale in steps of 0.01: below the percentage means "selected". */
export function percentagePoint(key: string): number {
  return (stableHash(key, PERCENTAGE_SEED) % 10_000) / 100;
}

/** The shard of a key among `shards`. */
export function shardOf(key: string, shards: number): number {
  return shards <= 1 ? 0 : stableHash(key) % shards;
}
