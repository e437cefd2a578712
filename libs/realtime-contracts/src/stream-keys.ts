import { shardOf } from './stable-hash';

/**
 * Stream key of each shard: `<prefix>:{<n>}`. The braces are a Redis Cluster hash tag, so each shard's key maps to
 * one slot and shards spread over the cluster. A target always hashes to the same shard, which keeps one room's
 * events in one stream, in order.
 */
export class StreamKeys {
  readonly all: readonly string[];

  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {
    this.all = Array.from({ length: shards }, (_, shard) => streamKey(prefix, shard));
  }

  forTarget(targetKey: string): string {
    return this.all[shardOf(targetKey, this.shards)];
  }
}

export function streamKey(prefix: string, shard: number): string {
  return `${prefix}:{${shard}}`;
}

/** The entry counter of a stream: the publisher numbers entries there, gateways read it to tell trims from gaps. */
export function sequenceKeyOf(streamKey: string): string {
  return `${streamKey}:seq`;
}
