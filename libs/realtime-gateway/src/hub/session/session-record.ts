import type { HubProtocolName } from '../protocols/hub-protocol-codec';
import { hubProtocolNamed } from '../protocols/hub-protocols';
import type { PositionVector } from './stream-positions';

/** Something that happened to a session after its recorded position, which a replay must redo in place. */
export type SessionEvent =
  /** A group joined or left after `after` messages had been sent, with the consumer at `q`. */
  | { k: 'join' | 'leave'; g: string; after: number; q: PositionVector }
  /** A completion (an answer to the client's invoke) sent as message `seq`, with the consumer at `q`. */
  | { k: 'done'; seq: number; /** In the session protocol's record form. */ frame: string; q: PositionVector };

/**
 * What another instance needs to resume a session, as kept in Redis. Written when the session changes (an ack, a
 * group, a completion, an invocation received) and batched; never once per delivered message.
 *
 * - `live`: a checkpoint of a session that was connected; after a crash, the next instance regenerates the
 *   messages after `base` from the stream entries after `pos`, redoing `events` in place.
 * - `detached`: written by an instance that saw the socket go (or handed the session over on shutdown): `frames`
 *   are the unacknowledged messages themselves (numbered `base + 1`...), and `pos` is where its consumer stood, so
 *   the stream after `pos` is new to the client.
 */
export interface SessionRecord {
  v: 1;
  owner: string;
  state: 'live' | 'detached';
  /** The hub protocol (absent: JSON). `frames` are in its record form: JSON text, or MessagePack as base64. */
  p?: HubProtocolName;
  connectionId: string;
  userId: string;
  base: number;
  frames: string[];
  pos: PositionVector;
  groups: string[];
  events: SessionEvent[];
  /** The id of the last client message processed (client invocations are not run twice). */
  received: number;
  /** A message that did not come from the stream (bridge, in-process) was sent after `base`: a crash replay cannot redo it. */
  foreign: boolean;
  at: number;
}

/** Parses a stored record; anything else is undefined (a foreign or corrupt value resumes nothing). */
export function parseSessionRecord(json: string | null): SessionRecord | undefined {
  if (!json) return undefined;
  try {
    const record = JSON.parse(json) as Partial<SessionRecord>;
    if (record?.v !== 1 || typeof record.userId !== 'string' || typeof record.connectionId !== 'string')
      return undefined;
    if (!Number.isSafeInteger(record.base) || !Array.isArray(record.frames) || !Array.isArray(record.groups))
      return undefined;
    if (typeof record.pos !== 'object' || record.pos === null || !Array.isArray(record.events)) return undefined;
    // A protocol this instance does not speak (a newer one's record) resumes nothing here.
    if (record.p !== undefined && !hubProtocolNamed(record.p)) return undefined;
    return record as SessionRecord;
  } catch {
    return undefined;
  }
}
