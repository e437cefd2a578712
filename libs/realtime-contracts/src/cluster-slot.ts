/** Slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/**
 * The Redis Cluster slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial 0) of its hash tag (the part between
 * the first `{` and the next `}`, when not empty) or of the whole key, modulo 16384. For ASCII tags (ours are:
 * digits and dots), where UTF-16 code units are the bytes.
 */
export function clusterSlotOf(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (let i = 0; i < hashed.length; i++) {
    crc ^= (hashed.charCodeAt(i) & 0xff) << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % CLUSTER_SLOTS;
}

/**
 * Hash tags that spread `shards` over the slot space evenly: shard i gets the first tag (`i`, then `i.1`, `i.2`...)
 * whose slot falls in the i-th of `shards` equal parts of it. A cluster gives each master a contiguous run of slots
 * (`redis-cli --cluster create` and rebalancing do), so with N masters each holds about 1/N of the shards; plain
 * numbers (`{0}`, `{1}`...) leave that to chance (6 shards over 3 masters: 1, 3 and 2). Deterministic and part of
 * the stream layout: every publisher and gateway computes the same tags, so this must never change.
 */
export function balancedHashTags(shards: number): readonly string[] {
  const known = computed.get(shards);
  if (known) return known;
  const tags: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const from = Math.floor((shard * CLUSTER_SLOTS) / shards);
    const to = Math.floor(((shard + 1) * CLUSTER_SLOTS) / shards);
    let tag = String(shard);
    for (let attempt = 1; !inRange(clusterSlotOf(`{${tag}}`), from, to); attempt++) tag = `${shard}.${attempt}`;
    tags.push(tag);
  }
  computed.set(shards, tags);
  return tags;
}

/** A few hundred milliseconds for 1,024 shards: computed once per shard count. */
const computed = new Map<number, readonly string[]>();

function inRange(slot: number, from: number, to: number): boolean {
  return slot >= from && slot < to;
}
