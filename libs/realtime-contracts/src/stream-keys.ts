import { balancedHashTags } from './cluster-slot';
import { shardOf } from './stable-hash';

/** How shard keys are tagged: `numbered` (`{0}`, `{1}`...) on a single node, `balanced` over a cluster's slots. */
export type StreamKeyLayout = 'numbered' | 'balanced';

/**
 * Stream key of each shard: `<prefix>:{<tag>}`. The braces are a Redis Cluster hash tag, so each shard's key maps to
 * one slot. On a single node the tag is the shard's number (the keys every release used); on a cluster the tags are
 * chosen so the shards spread evenly over the slots (`balancedHashTags`). A target always hashes to the same shard,
 * which keeps one room's events in one stream, in order. Publishers and gateways of one deployment must use the
 * same layout: both take it from the same setting (cluster nodes given or not).
 */
export class StreamKeys {
  readonly all: readonly string[];

  constructor(
    readonly prefix: string,
    readonly shards: number,
    readonly layout: StreamKeyLayout = 'numbered',
  ) {
    const tags = layout === 'balanced' ? balancedHashTags(shards) : Array.from({ length: shards }, (_, s) => String(s));
    this.all = tags.map((tag) => `${prefix}:{${tag}}`);
  }

  forTarget(targetKey: string): string {
    return this.all[shardOf(targetKey, this.shards)];
  }

  /** The shard (index in `all`) a target maps to. */
  shardOfTarget(targetKey: string): number {
    return shardOf(targetKey, this.shards);
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
