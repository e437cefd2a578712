import { SPLIT_FROM_SHARDS, type StreamKeyLayout } from '@realtime-streams/contracts';
import type { RedisConnection } from './fail-fast-redis';

/**
 * Where publishers and gateways announce the stream layout they use: one hash, independent of any prefix (a side
 * with the wrong prefix must still find it), one key so one Redis Cluster slot. Field: role and layout; value: when
 * it was last announced (epoch ms).
 */
export const STREAM_LAYOUTS_KEY = 'realtime-streams:layouts';

/** How often each process announces its layout (gateways: with every stream monitor check). */
export const LAYOUT_ANNOUNCE_INTERVAL_MS = 5000;

/**
 * An announcement older than this is a process gone (or one whose clock is far off): ignored. Several announce
 * intervals, so one missed announcement never makes a live publisher disappear.
 */
export const LAYOUT_STALE_AFTER_MS = 30_000;

/** The hash disappears when nobody announced for this long; fields of layouts gone are dropped by gateways. */
const LAYOUTS_KEY_TTL_MS = 10 * 60_000;

export type LayoutRole = 'publisher' | 'gateway';

/**
 * Which shard a target maps to: `split` (0.4 on: from 16 shards, users and everyone on the first eighth of the
 * shards, groups on the rest, see StreamKeys), `hashed` (0.3: every target hashed over every shard). The same below
 * 16 shards.
 */
export type TargetMapping = 'split' | 'hashed';

/** The mapping of this version. */
export const TARGET_MAPPING: TargetMapping = 'split';

/** What both sides must agree on to meet on the same streams. */
export interface StreamLayout {
  prefix: string;
  shards: number;
  keys: StreamKeyLayout;
  /** This version's (`split`) when absent. */
  targets?: TargetMapping;
}

export interface AnnouncedLayout {
  role: LayoutRole;
  layout: StreamLayout;
  /** When it was last announced (the announcer's clock, epoch ms). */
  seenAt: number;
  field: string;
}

/** `prefix=rt shards=16` (and `keys=balanced` on a cluster): how messages show a layout. */
export function describeLayout({ prefix, shards, keys, targets }: StreamLayout): string {
  const mapping = (targets ?? TARGET_MAPPING) === TARGET_MAPPING ? '' : ` targets=${targets}`;
  return `prefix=${prefix} shards=${shards}${keys === 'numbered' ? '' : ` keys=${keys}`}${mapping}`;
}

export function sameLayout(a: StreamLayout, b: StreamLayout): boolean {
  // Below 16 shards both mappings hash every target over every shard.
  const mapping = a.shards < SPLIT_FROM_SHARDS || (a.targets ?? TARGET_MAPPING) === (b.targets ?? TARGET_MAPPING);
  return a.prefix === b.prefix && a.shards === b.shards && a.keys === b.keys && mapping;
}

/**
 * The hash field of an announcement: readable in `HGETALL`, the prefix last since it may hold spaces. Before the
 * prefix, `targets=split` (0.4 on); 0.3 announced none, and reads a field with it as another version's (skipped).
 */
export function layoutField(role: LayoutRole, { prefix, shards, keys, targets }: StreamLayout): string {
  return `${role} shards=${shards} keys=${keys} targets=${targets ?? TARGET_MAPPING} prefix=${prefix}`;
}

const FIELD = /^(publisher|gateway) shards=(\d+) keys=(numbered|balanced)(?: targets=(split|hashed))? prefix=(.+)$/s;

/** The announcements in an `HGETALL` reply; fields it cannot read (another version's) are skipped. */
export function parseLayouts(reply: Record<string, string>): AnnouncedLayout[] {
  const announced: AnnouncedLayout[] = [];
  for (const [field, value] of Object.entries(reply)) {
    const match = FIELD.exec(field);
    const seenAt = Number(value);
    if (!match || !Number.isFinite(seenAt)) continue;
    const targets = (match[4] ?? 'hashed') as TargetMapping;
    const layout = { prefix: match[5], shards: Number(match[2]), keys: match[3] as StreamKeyLayout, targets };
    announced.push({ role: match[1] as LayoutRole, layout, seenAt, field });
  }
  return announced;
}

/**
 * Announces a layout, and with `read` returns every announcement in the same round trip (a gateway's check). One
 * pipeline: HSET, PEXPIRE (and HGETALL), all on one key.
 */
export async function announceLayout(
  redis: RedisConnection,
  role: LayoutRole,
  layout: StreamLayout,
  options: { read?: boolean; now?: number } = {},
): Promise<AnnouncedLayout[]> {
  const now = options.now ?? Date.now();
  const pipeline = redis
    .pipeline()
    .hset(STREAM_LAYOUTS_KEY, layoutField(role, layout), String(now))
    .pexpire(STREAM_LAYOUTS_KEY, LAYOUTS_KEY_TTL_MS);
  if (options.read) pipeline.hgetall(STREAM_LAYOUTS_KEY);
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0]!;
  return options.read ? parseLayouts((replies[2]?.[1] ?? {}) as Record<string, string>) : [];
}

/** Drops announcements nobody renewed for the key's lifetime (layouts no longer in use). */
export async function forgetLayouts(redis: RedisConnection, fields: readonly string[]): Promise<void> {
  if (fields.length > 0) await redis.hdel(STREAM_LAYOUTS_KEY, ...fields);
}

/** Whether an announcement is old enough to be forgotten. */
export function isForgotten(announced: AnnouncedLayout, now: number): boolean {
  return now - announced.seenAt > LAYOUTS_KEY_TTL_MS;
}
