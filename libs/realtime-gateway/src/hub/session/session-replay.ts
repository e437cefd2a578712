import type { Envelope } from '@realtime-streams/contracts';
import type { InboundEnvelopeReader } from '../../delivery/inbound-envelope';
import { hubProtocolNamed } from '../protocols/hub-protocols';
import type { SessionEvent, SessionRecord } from './session-record';
import type { SessionStore } from './session-store';
import { StatefulSession } from './stateful-session';
import { compareStreamIds } from './stream-ids';
import type { PositionVector } from './stream-positions';

/** Why a session could not be resumed: the client is told 404 and starts a new connection (and re-fetches). */
export type ResumeFailure =
  | 'unknown'
  | 'wrong_user'
  | 'behind'
  | 'overflow'
  | 'busy'
  | 'foreign'
  | 'several_shards'
  | 'too_far_behind'
  | 'mismatch'
  | 'out_of_order'
  | 'redis';

export type Rebuilt =
  | {
      ok: true;
      session: StatefulSession;
      groups: Set<string>;
      /** Messages the resumed client is resent (recorded, then regenerated from the stream). */
      replayed: number;
      /** Where the replay read each shard up to: live entries up to there are in it already. */
      readUpTo: PositionVector;
      /** Envelope ids in the replay: a bridge copy arriving meanwhile is a duplicate. */
      ids: ReadonlySet<string>;
    }
  | { ok: false; reason: ResumeFailure };

/** The session's groups once every recorded change is redone: what it joins on the instance taking it over. */
export function groupsAfter(record: SessionRecord): Set<string> {
  const groups = new Set(record.groups);
  for (const event of record.events) {
    if (event.k === 'join') groups.add(event.g);
    else if (event.k === 'leave') groups.delete(event.g);
  }
  return groups;
}

/**
 * The routing keys of every target a replay of `record` may deliver: everyone, its user, and every group it was in
 * or joined since (left ones too: entries before the leave are the session's).
 */
export function targetKeysOf(record: SessionRecord): string[] {
  const groups = new Set(record.groups);
  for (const event of record.events) if (event.k !== 'done') groups.add(event.g);
  return ['all', `user:${record.userId}`, ...[...groups].map((group) => `group:${group}`)];
}

/** Who a session is, for matching envelope targets during a replay. */
interface Member {
  userId: string;
  groups: Set<string>;
}

/** What a replay on this instance needs. */
export interface ReplaySource {
  store: SessionStore;
  reader: InboundEnvelopeReader;
  /** The shards holding these targets (routing keys): the only ones a replay reads. */
  keysOf: (targetKeys: readonly string[]) => string[];
  /** More entries than this after the recorded position on one shard: too far behind to replay. */
  maxEntries: number;
  /** Whether this instance holds envelopes of a target for an earlier one now (see TargetOrder). */
  holds?: (target: Envelope['target']) => boolean;
}

/**
 * Rebuilds on this instance a session recorded by another (or by this one before a restart), numbered exactly as
 * the client knows it:
 * - a `detached` record carries the unacknowledged messages themselves; the stream after its position is new to
 *   the client and is appended (fresh ids, so the order across shards is free);
 * - a `live` checkpoint (its instance crashed) is regenerated: every stream entry after the position that targeted
 *   the session, with the recorded group changes and completions redone in place, must give the ids the old
 *   instance gave. That order is exact within one shard; entries of several shards after a crash, a message that did
 *   not come from the stream, or a recorded completion that lands on another id refuse the resume instead of
 *   guessing (the client starts over and re-fetches: nothing is lost silently).
 */
export async function rebuildSession(
  record: SessionRecord,
  hash: string,
  userId: string,
  source: ReplaySource,
): Promise<Rebuilt> {
  if (record.userId !== userId) return { ok: false, reason: 'wrong_user' };
  if (record.state !== 'live' && record.state !== 'detached') return { ok: false, reason: 'busy' };
  if (record.state === 'live' && record.foreign) return { ok: false, reason: 'foreign' };
  const codec = hubProtocolNamed(record.p ?? 'json')!;
  const session = new StatefulSession(hash, record.connectionId, codec, {
    at: record.pos,
    groups: record.groups,
    sent: record.base,
    received: record.received,
  });
  // Recorded frames cannot be regenerated from the stream: marked foreign, so a crash before the client acknowledges
  // them refuses the next resume rather than renumbering.
  for (const frame of record.frames) session.push(codec.fromRecord(frame), undefined, 'foreign');

  // Only the shards of the session's targets: with interest routing, the only ones placed in its record.
  const from = startsOf(record, source.keysOf(targetKeysOf(record)));
  const keys = Object.keys(from);
  let entries: Array<Array<[string, string[]]>>;
  try {
    entries = await source.store.entriesAfter(keys, from, source.maxEntries + 1);
  } catch {
    return { ok: false, reason: 'redis' };
  }
  if (entries.some((list) => list.length > source.maxEntries)) return { ok: false, reason: 'too_far_behind' };
  const readUpTo: Record<string, string> = { ...record.pos };
  keys.forEach((key, i) => {
    const last = entries[i].at(-1);
    if (last) readUpTo[key] = last[0];
  });

  const member: Member = { userId, groups: new Set(record.groups) };
  const replay = new Replay(session, member, source.reader, record.pos);
  if (record.state === 'detached') {
    keys.forEach((key, i) => replay.entries(key, entries[i], []));
  } else {
    const events = [...record.events];
    const everyGroup = new Set([...record.groups, ...events.flatMap((e) => (e.k === 'done' ? [] : [e.g]))]);
    const targeted = keys.filter((key, i) => entries[i].some(([, fields]) => replay.mayTarget(fields, everyGroup)));
    // Not exact across shards: the old instance interleaved them as its readers returned them, and what it sent
    // after its last record is written nowhere (recording it would be a write per message). The client does not
    // say which id it holds, so another interleaving would renumber messages: it would skip some and repeat others.
    if (targeted.length > 1) return { ok: false, reason: 'several_shards' };
    const key = targeted[0] ?? keys[0];
    replay.entries(key, entries[keys.indexOf(key)] ?? [], events);
    if (!replay.finish(events)) return { ok: false, reason: 'mismatch' };
  }
  // A target's numbered envelopes (seq) go out in number order; the stream may hold them in another (two apis), and
  // a replay follows the stream. Out of order, with a hole, or with some still held here: refused (told) rather
  // than resumed without a message or in another order.
  if (!replay.inNumberOrder || holdsAny(member, source)) return { ok: false, reason: 'out_of_order' };
  return { ok: true, session, groups: member.groups, replayed: session.sent - record.base, readUpTo, ids: replay.ids };
}

/**
 * Where the replay starts on each of `keys`: the recorded position; for a shard the record does not place (its
 * gateway started reading it on a later join: interest routing), the position recorded with that join, since
 * nothing before it was the session's. A shard placed by neither holds nothing for the session: not read.
 */
function startsOf(record: SessionRecord, keys: readonly string[]): Record<string, string> {
  const from: Record<string, string> = {};
  for (const key of keys) {
    let start = record.pos[key];
    for (const event of record.events) {
      if (start !== undefined) break;
      if (event.k === 'join') start = event.q[key];
    }
    if (start !== undefined) from[key] = start;
  }
  return from;
}

function holdsAny(member: Member, source: ReplaySource): boolean {
  if (!source.holds) return false;
  if (source.holds({ kind: 'user', id: member.userId }) || source.holds({ kind: 'all' })) return true;
  for (const name of member.groups) if (source.holds({ kind: 'group', name })) return true;
  return false;
}

class Replay {
  readonly ids = new Set<string>();
  /** The last number replayed per target (numbered envelopes only). */
  private readonly numbers = new Map<string, number>();
  inNumberOrder = true;
  private position: Record<string, string>;
  private consistent = true;

  constructor(
    private readonly session: StatefulSession,
    private readonly member: Member,
    private readonly reader: InboundEnvelopeReader,
    start: PositionVector,
  ) {
    this.position = { ...start };
  }

  /** Redoes one shard's entries, with `events` (consumed from the front) put back where they happened. */
  entries(key: string, list: ReadonlyArray<[string, string[]]>, events: SessionEvent[]): void {
    for (const [id, fields] of list) {
      while (events.length > 0 && compareStreamIds(id, events[0].q[key] ?? '0-0') > 0) this.redo(events.shift()!);
      this.position = { ...this.position, [key]: id };
      const envelope = this.envelopeOf(fields);
      if (!envelope || this.ids.has(envelope.envelope.id) || !targets(envelope.envelope, this.member)) continue;
      this.ids.add(envelope.envelope.id);
      this.checkNumber(envelope.envelope);
      const { method, args } = envelope.envelope;
      this.session.push(this.session.codec.invocation(method, args, envelope.argsJson), this.position, 'regenerable');
    }
  }

  /** Each target's numbers must follow on within the replay: 7 after 8, or 9 after 7, is not what went out. */
  private checkNumber({ seq, target, volatile }: Envelope): void {
    if (seq === undefined || volatile) return;
    const key = target.kind === 'group' ? `g:${target.name}` : target.kind === 'user' ? `u:${target.id}` : 'all';
    const last = this.numbers.get(key);
    if (last !== undefined && seq !== last + 1) this.inNumberOrder = false;
    this.numbers.set(key, seq);
  }

  /** Redoes what happened after the last entry; false when a completion did not land on its recorded id. */
  finish(events: SessionEvent[]): boolean {
    for (const event of events.splice(0)) this.redo(event);
    return this.consistent;
  }

  /** Whether an entry could target the session under any of `groups` (a cheap check, before the replay proper). */
  mayTarget(fields: string[], groups: Set<string>): boolean {
    const envelope = this.envelopeOf(fields)?.envelope;
    return !!envelope && targets(envelope, { userId: this.member.userId, groups });
  }

  private redo(event: SessionEvent): void {
    if (event.k === 'done') {
      if (this.session.sent + 1 !== event.seq) this.consistent = false;
      this.session.pushCompletion(this.session.codec.fromRecord(event.frame), event.q);
      return;
    }
    if (event.k === 'join') this.member.groups.add(event.g);
    else this.member.groups.delete(event.g);
    this.session.groupChanged(event.k, event.g, event.q);
  }

  private envelopeOf(fields: string[] | null): { envelope: Envelope; argsJson?: string } | undefined {
    if (!fields) return undefined;
    const index = fields.indexOf('e');
    if (index < 0 || index % 2 !== 0) return undefined;
    const checked = this.reader.fromJson(fields[index + 1]);
    return checked.ok ? { envelope: checked.envelope, argsJson: checked.argsJson } : undefined;
  }
}

function targets(envelope: Envelope, member: Member): boolean {
  const target = envelope.target;
  if (target.kind === 'group') return member.groups.has(target.name);
  if (target.kind === 'user') return target.id === member.userId;
  return true;
}
