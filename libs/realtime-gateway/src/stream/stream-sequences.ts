import { compareStreamIds } from '../hub/session/stream-ids';

/** Where this instance stands on one shard: the number (`n`) of the last entry it read, and that entry's id. */
export interface StreamPosition {
  n: number;
  /** Unknown when the position came from the counter (group created at `$`) and no entry carried that number. */
  id?: string;
}

/** What the monitor reads to compute lag: the last entry number this instance read on each shard. */
export interface SequencePositions {
  lastSequence(key: string): number | undefined;
}

/** What reading one numbered entry says about the entries before it. */
export type SequenceCheck =
  | { kind: 'in-order' }
  /** Entries `from`..`to` (inclusive) were never read by this instance: trimmed before it got to them, or lost. */
  | { kind: 'gap'; from: number; to: number }
  /** A new entry numbered at or below the last one read: the shard's counter started again (Redis lost it). */
  | { kind: 'restarted'; n: number; previous: number }
  /**
   * A new entry after the last one read (by id) but numbered at or below it, above 1: the shard lost its last
   * entries (a cluster failover to a replica that had not got them yet) and numbers on from where the replica stood.
   * This instance had read what was lost; the publisher replays it for the others.
   */
  | { kind: 'tail-lost'; n: number; previous: number }
  /** An entry this instance read already (by id), handed out again: a failover to a replica that had the entry but
   * not the group's read of it. Not delivered again. */
  | { kind: 'repeat' };

/**
 * The gap check of the stream consumer. The publisher numbers every entry of a shard consecutively (field `n`,
 * from the counter `<stream>:seq`, in the same script as the XADD), so a jump from 41 to 45 means exactly 3
 * entries this instance never read. Entries without a number (older publishers, other producers) are not checked.
 */
export class StreamSequences implements SequencePositions {
  private readonly positions = new Map<string, StreamPosition>();

  lastSequence(key: string): number | undefined {
    return this.positions.get(key)?.n;
  }

  get(key: string): StreamPosition | undefined {
    return this.positions.get(key);
  }

  set(key: string, position: StreamPosition): void {
    this.positions.set(key, { ...position });
  }

  /** The shard is no longer read (interest routing): its reading starts from its counter again next time. */
  forget(key: string): void {
    this.positions.delete(key);
  }

  /**
   * Checks entry `n` of `key` and moves the position to it. `fresh` is true for new entries (`>`): those come in
   * stream order, so a number at or below the last one read means the numbering restarted. Own pending entries
   * (re-read after a restart or a replaced connection) may be older than the position: they are not checked then.
   */
  check(key: string, id: string, n: number | undefined, fresh: boolean): SequenceCheck {
    if (n === undefined) return IN_ORDER;
    const position = this.positions.get(key);
    if (!position) {
      // Nothing known yet (a group that existed before this process, its last entry gone): this entry is the start.
      this.positions.set(key, { n, id });
      return IN_ORDER;
    }
    // Moved in place: this runs for every entry read, and the position is this map's own object.
    if (n > position.n) {
      const from = position.n + 1;
      position.n = n;
      position.id = id;
      return n === from ? IN_ORDER : { kind: 'gap', from, to: n - 1 };
    }
    if (!fresh) return IN_ORDER;
    const placed = position.id !== undefined;
    if (placed && compareStreamIds(id, position.id!) <= 0) return REPEAT;
    const previous = position.n;
    position.n = n;
    position.id = id;
    return placed && n > 1 ? { kind: 'tail-lost', n, previous } : { kind: 'restarted', n, previous };
  }
}

const IN_ORDER: SequenceCheck = { kind: 'in-order' };
const REPEAT: SequenceCheck = { kind: 'repeat' };

/** An entry's number (field `n`), when it is a well-formed one. */
export function sequenceOf(fields: readonly string[] | null | undefined): number | undefined {
  return fields ? positiveIntegerOf(entryField(fields, 'n')) : undefined;
}

/** The value of a field of a stream entry (fields and values alternate), if it has it. */
export function entryField(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A number written by the publisher (`n`, `q`): digits only, at most 2^53 - 1. */
export function positiveIntegerOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9][0-9]{0,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
