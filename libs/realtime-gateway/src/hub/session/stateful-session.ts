import type { HubProtocolCodec } from '../protocols/hub-protocol-codec';
import type { SessionEvent, SessionRecord } from './session-record';
import type { PositionVector } from './stream-positions';

/** What a group change costs in a record besides its name: the fields and a position. */
const EVENT_OVERHEAD_BYTES = 128;

interface SentMessage {
  readonly seq: number;
  readonly frame: string | Buffer;
  readonly bytes: number;
  /** Where the consumer stood when it was sent (undefined without a stream consumer). */
  readonly at: PositionVector | undefined;
  readonly foreign: boolean;
}

/** How a session kept on this instance tells Redis its record is behind; false when there is no Redis to tell. */
export type MarkBehind = (session: StatefulSession) => boolean;

/**
 * The stateful-reconnect side of one connection (SignalR's "stateful reconnect"): both directions' message ids,
 * the messages sent and not acknowledged (bounded in bytes), and what a resume on another instance needs.
 * Ids are never on the wire: messages of types 1-5 are counted from 1 in each direction.
 */
export class StatefulSession {
  /** Id of the last message sent to the client. */
  sent = 0;
  /** Highest id the client acknowledged. */
  acked = 0;
  /** Id of the last client message processed, and of the next one expected. */
  private received = 0;
  private nextInbound = 1;
  /** The highest `received` the client has been told about with an Ack. */
  private ackSent = 0;
  /** Set once the session is kept live on this instance (see StatefulSessions); a replay's session has none. */
  private markBehind?: MarkBehind;
  bufferedBytes = 0;
  /** Bytes of the group changes kept for a replay (completions are counted as messages). */
  private eventBytes = 0;
  /** Set when a change must reach Redis with the next batched write. */
  dirty = false;
  /**
   * Set when something a crash replay cannot redo (an invocation run, a completion sent, a group change) happened
   * after the last record written, and Redis was told so; cleared by the next record.
   */
  unrecorded = false;
  /** When the socket went (epoch ms); undefined while connected. */
  detachedAt: number | undefined;
  private readonly messages: SentMessage[] = [];
  private head = 0;
  private foreignUnacked = 0;
  /** The state at the last acknowledged message: what a crash replay starts from. */
  private ackedAt: PositionVector | undefined;
  private readonly groupsAtAck: Set<string>;
  private events: SessionEvent[] = [];
  /**
   * The last message that went out after stream entries read later than its own (a target's order restored, see
   * TargetOrder): a crash replay regenerates in stream order, so no checkpoint is written until the client
   * acknowledged it (Redis was told the record is behind).
   */
  private releasedUpTo = 0;
  /** An envelope of one of its targets waits for an earlier one (see waitForOrder). */
  private waitingForOrder = false;

  constructor(
    readonly tokenHash: string,
    readonly connectionId: string,
    /** The connection's hub protocol: its frames are kept as they were sent, and recorded in its form. */
    readonly codec: HubProtocolCodec,
    start: { at: PositionVector | undefined; groups?: Iterable<string>; sent?: number; received?: number },
  ) {
    this.ackedAt = start.at;
    this.groupsAtAck = new Set(start.groups ?? []);
    this.sent = this.acked = start.sent ?? 0;
    this.received = this.ackSent = start.received ?? 0;
    this.nextInbound = this.received + 1;
  }

  /** Id of the last client message processed: what a record says the client need not resend. */
  get receivedUpTo(): number {
    return this.received;
  }

  /** From now on its record going behind is told to Redis this way. */
  keptBy(markBehind: MarkBehind): void {
    this.markBehind = markBehind;
  }

  /**
   * A client message of types 1-5 came: false when it is one processed already (resent after a reconnect), which
   * must not run twice.
   */
  countInbound(): boolean {
    const id = this.nextInbound++;
    if (id <= this.received) return false;
    this.received = id;
    return true;
  }

  /** The client's Sequence message: the id its next message has. False when that is past what was received. */
  resequence(next: number): boolean {
    if (next > this.received + 1) return false;
    this.nextInbound = next;
    return true;
  }

  /** The id to acknowledge to the client now, once per change (the protocol's "about once a second"). */
  takeAckDue(): number | undefined {
    if (this.received <= this.ackSent) return undefined;
    this.ackSent = this.received;
    return this.received;
  }

  /**
   * The session is about to do what its record cannot redo (run an invocation, send a completion, change a group,
   * send a message out of stream order): the next tick writes a whole record; the first time since the last one,
   * Redis is told at once that it is behind (see SessionStore.markBehind), so a crash meanwhile refuses the resume
   * instead of running something twice or numbering it wrongly.
   */
  diverge(): void {
    this.dirty = true;
    if (this.unrecorded || !this.markBehind) return;
    this.unrecorded = this.markBehind(this);
  }

  /**
   * Numbers and keeps a message; returns its id. `foreign`: a crash replay could not regenerate it (it did not come
   * from the stream, nor is it recorded as an event), so a crash before the client acknowledges it refuses the resume.
   */
  push(frame: string | Buffer, at: PositionVector | undefined, kind: 'regenerable' | 'foreign'): number {
    const foreign = kind === 'foreign';
    const seq = ++this.sent;
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.messages.push({ seq, frame, bytes, at, foreign });
    this.bufferedBytes += bytes;
    if (foreign) this.foreignUnacked++;
    return seq;
  }

  /** A completion: numbered like any message, and recorded so a crash replay puts it back in its place. */
  pushCompletion(frame: string | Buffer, at: PositionVector | undefined): number {
    const seq = this.push(frame, at, 'regenerable');
    if (at) this.events.push({ k: 'done', seq, frame: this.codec.toRecord(frame), q: at });
    return seq;
  }

  groupChanged(kind: 'join' | 'leave', group: string, at: PositionVector | undefined): void {
    if (!at) return;
    this.events.push({ k: kind, g: group, after: this.sent, q: at });
    this.eventBytes += group.length + EVENT_OVERHEAD_BYTES;
  }

  /**
   * What the session holds for a resume: messages not acknowledged and group changes not yet part of the start. The
   * replay buffer bounds it, whatever the client does (a client that never acks cannot grow it, or its record).
   */
  get heldBytes(): number {
    return this.bufferedBytes + this.eventBytes;
  }

  /** The client processed everything up to `id`: those messages go, and the replay start moves there. */
  ack(id: number): void {
    if (id <= this.acked) return;
    const upTo = Math.min(id, this.sent);
    while (this.head < this.messages.length && this.messages[this.head].seq <= upTo) {
      const message = this.messages[this.head++];
      this.bufferedBytes -= message.bytes;
      if (message.foreign) this.foreignUnacked--;
      if (message.at) this.ackedAt = message.at;
    }
    // Compacted now and then, not on every ack: splice is linear in what is left.
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages.splice(0, this.head);
      this.head = 0;
    }
    this.acked = upTo;
    // Events before the acknowledged message are part of the new start; later ones stay to be redone.
    const kept: SessionEvent[] = [];
    for (const event of this.events) {
      if (event.k === 'done' ? event.seq <= upTo : event.after < upTo) {
        if (event.k !== 'done') this.eventBytes -= event.g.length + EVENT_OVERHEAD_BYTES;
        if (event.k === 'join') this.groupsAtAck.add(event.g);
        else if (event.k === 'leave') this.groupsAtAck.delete(event.g);
      } else kept.push(event);
    }
    this.events = kept;
    this.dirty = true;
  }

  /** The messages not acknowledged yet, oldest first: what is resent after a reconnect. */
  *unacked(): Iterable<string | Buffer> {
    for (let i = this.head; i < this.messages.length; i++) yield this.messages[i].frame;
  }

  /** Whether a resume on another instance can be prepared (a consumer placed on every shard). */
  get replayable(): boolean {
    return this.ackedAt !== undefined;
  }

  /** The message just sent went out of stream order (see `releasedUpTo`); what waited for it went out. */
  releasedOutOfStreamOrder(): void {
    this.releasedUpTo = this.sent;
    this.waitingForOrder = false;
  }

  /**
   * An envelope of one of its targets waits for an earlier one: the consumer's position is past a stream entry this
   * session has not got, so no record written now could be resumed from exactly. Ends when it went out (released).
   */
  waitForOrder(): void {
    this.waitingForOrder = true;
  }

  /** Whether a record written now is one another instance can resume from exactly. */
  get recordable(): boolean {
    return !this.waitingForOrder;
  }

  /** A checkpoint of a connected session (see SessionRecord `live`). */
  liveRecord(owner: string, userId: string, now: number): SessionRecord | undefined {
    if (!this.ackedAt || this.waitingForOrder || this.acked < this.releasedUpTo) return undefined;
    return {
      v: 1,
      owner,
      state: 'live',
      ...this.protocolField(),
      connectionId: this.connectionId,
      userId,
      base: this.acked,
      frames: [],
      pos: this.ackedAt,
      groups: [...this.groupsAtAck],
      events: this.events,
      received: this.received,
      foreign: this.foreignUnacked > 0,
      at: now,
    };
  }

  /** The exact state of a session whose socket went, with `pos` where the consumer stands now. */
  detachedRecord(
    owner: string,
    userId: string,
    groups: Iterable<string>,
    pos: PositionVector,
    now: number,
  ): SessionRecord {
    const frames: string[] = [];
    for (const frame of this.unacked()) frames.push(this.codec.toRecord(frame));
    return {
      v: 1,
      owner,
      state: 'detached',
      ...this.protocolField(),
      connectionId: this.connectionId,
      userId,
      base: this.acked,
      frames,
      pos,
      groups: [...groups],
      events: [],
      received: this.received,
      foreign: false,
      at: now,
    };
  }

  /** JSON, the default, is not written: records of earlier versions are JSON sessions. */
  private protocolField(): Pick<SessionRecord, 'p'> {
    return this.codec.name === 'json' ? {} : { p: this.codec.name };
  }
}
