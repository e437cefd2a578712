import { balancedHashTags } from './cluster-slot';
import { shardOf } from './stable-hash';

/** How shard keys are tagged: `numbered` (`{0}`, `{1}`...) on a single node, `balanced` over a cluster's slots. */
export type StreamKeyLayout = 'numbered' | 'balanced';

/** From this many shards on, users and groups get shards of their own (see `userShardsOf`). */
export const SPLIT_FROM_SHARDS = 16;

/**
 * How many of `shards` hold only the targets of users and everyone, the others holding groups: an eighth, from 16
 * shards on (0 below: every target hashed over every shard, as in 0.3). Every connection is a user, so a gateway
 * has users on nearly every user shard and reads them all, while a group lives on a shard of its own range, read
 * only by the gateways with a member of a group there (interest routing). With users and groups on the same shards,
 * a gateway's users alone would put it on nearly every shard.
 */
export function userShardsOf(shards: number): number {
  return shards < SPLIT_FROM_SHARDS ? 0 : Math.floor(shards / 8);
}

/**
 * Stream key of each shard: `<prefix>:{<tag>}`. The braces are a Redis Cluster hash tag, so each shard's key maps to
 * one slot. On a single node the tag is the shard's number (the keys every release used); on a cluster the tags are
 * chosen so the shards spread evenly over the slots (`balancedHashTags`). A target always hashes to the same shard,
 * which keeps one room's events in one stream, in order. From 16 shards on, groups hash over the shards after the
 * first `userShardsOf(shards)`, users and everyone over those; below, every target over every shard. Publishers and gateways of
 * one deployment must use the same layout: both take it from the same settings (cluster nodes given or not).
 */
export class StreamKeys {
  readonly all: readonly string[];
  /** Shards `0 .. userShards - 1` hold users and everyone, the rest groups (0: every target on every shard). */
  readonly userShards: number;

  constructor(
    readonly prefix: string,
    readonly shards: number,
    readonly layout: StreamKeyLayout = 'numbered',
  ) {
    const tags = layout === 'balanced' ? balancedHashTags(shards) : Array.from({ length: shards }, (_, s) => String(s));
    this.all = tags.map((tag) => `${prefix}:{${tag}}`);
    this.userShards = userShardsOf(shards);
  }

  forTarget(targetKey: string): string {
    return this.all[this.shardOfTarget(targetKey)];
  }

  /** The shard (index in `all`) a target maps to, by its routing key (`group:<name>`, `user:<id>`, `all`). */
  shardOfTarget(targetKey: string): number {
    if (this.userShards === 0) return shardOf(targetKey, this.shards);
    if (!targetKey.startsWith('group:')) return shardOf(targetKey, this.userShards);
    return this.userShards + shardOf(targetKey, this.shards - this.userShards);
  }
}

/** The stream key of a shard in the numbered layout (single node). */
export function streamKey(prefix: string, shard: number): string {
  return `${prefix}:{${shard}}`;
}

/** The entry counter of a stream: the publisher numbers entries there, gateways read it to tell trims from gaps. */
export function sequenceKeyOf(streamKey: string): string {
  return `${streamKey}:seq`;
}
