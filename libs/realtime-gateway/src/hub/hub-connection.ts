import { type AuthenticatedUser, expiryOf } from '../auth/access-token-verifier';
import type { CloseOptions, ConnectionOverflow, ConnectionOwner } from './connection-owner';
import { type ConnectionState, mayMove } from './connection-state';
import type { InvocationBudget } from './invocation-budget';
import type { MessageOrigin } from './message-origin';
import type { HubProtocolCodec } from './protocols/hub-protocol-codec';
import { JSON_HUB_PROTOCOL } from './protocols/json-hub-protocol';
import type { StatefulSession } from './session/stateful-session';
import { compareStreamIds } from './session/stream-ids';
import type { PositionVector } from './session/stream-positions';
import type { HubSocket } from './transports/hub-socket';
import type { SharedFrame } from './transports/shared-frame';

/** A message that reached a resuming session before its replay was done: numbered after the replay. */
interface HeldMessage {
  frame: Buffer;
  origin: MessageOrigin;
  /** Where the consumer stood when it arrived: its place in a later crash replay. */
  at: PositionVector | undefined;
}

/** What a connection starts with; no socket: a session rebuilt from another instance's record (`resuming`). */
export interface ConnectionInit {
  id: string;
  user: AuthenticatedUser;
  socket?: HubSocket;
  now: number;
  invocations: InvocationBudget;
  owner: ConnectionOwner;
}

/**
 * One client connection on the hub: its state (see ConnectionState), its socket, and everything it is sent,
 * bounded. Its owner (HubConnections) moves it from state to state; the methods marked "owner" are for it alone.
 * With stateful reconnect it has a session and outlives its socket: numbered messages are kept until the client
 * acknowledges them, and resent when it comes back with a new socket.
 */
export class HubConnection {
  readonly id: string;
  user: AuthenticatedUser;
  readonly invocations: InvocationBudget;
  readonly groups = new Set<string>();
  readonly openedAt: number;
  lastReceivedAt: number;
  lastSentAt: number;
  /** When the connection's token expires (epoch ms); undefined when it does not. */
  expiresAt: number | undefined;
  /** The connection token its socket came with: single-use until the socket goes. Null without one. */
  socketToken: string | null = null;
  /** The connection token, when it was negotiated with stateful reconnect: the handshake decides on a session. */
  statefulToken: string | undefined;
  /** The hub protocol the handshake chose (JSON until then: handshake errors are JSON). */
  codec: HubProtocolCodec = JSON_HUB_PROTOCOL;
  /** Stateful reconnect: message ids, the replay buffer, what a resume elsewhere needs. */
  session?: StatefulSession;
  /** Group joins whose authorization is being checked: they count against the groups bound. */
  joining = 0;
  private current: ConnectionState;
  /** The client got the handshake answer (or resumed): only then does a close message mean anything to it. */
  private greeted: boolean;
  private socket: HubSocket | undefined;
  private readonly owner: ConnectionOwner;
  /** While `resuming`: live messages wait here to be numbered after the replay. */
  private held?: HeldMessage[];
  /** Bytes of `held`: they count against the replay buffer like the session's own. */
  private heldBytes = 0;
  /**
   * After a resume from another instance's record: what the replay covered (stream entries up to these ids, these
   * envelope ids). This instance's consumer may still be behind the replay; what it delivers from there is not kept
   * twice.
   */
  private replayed?: { upTo: PositionVector; ids: ReadonlySet<string> };
  /**
   * While a delivery batch runs: its frames for this connection, sent as one frame when it ends. One frame is kept
   * as is (most connections get one per batch), an array only from the second.
   */
  private pending?: Buffer | Buffer[] | null;
  private pendingBytes = 0;

  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.user = init.user;
    this.socket = init.socket;
    this.invocations = init.invocations;
    this.owner = init.owner;
    this.openedAt = this.lastReceivedAt = this.lastSentAt = init.now;
    this.expiresAt = expiryOf(init.user);
    this.current = init.socket ? 'connecting' : 'resuming';
    this.greeted = !init.socket;
    if (!init.socket) this.held = [];
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Owner: the one place a state changes; a move the life of a connection does not allow is a bug, thrown. */
  moveTo(state: ConnectionState): void {
    if (!mayMove(this.current, state)) throw new Error(`A connection cannot go from ${this.current} to ${state}`);
    if (state === 'open') this.greeted = true;
    if (state === 'closed') this.dropPending();
    this.current = state;
  }

  /** The handshake is done (or the session resumed): what it sends is in its protocol, counted and routed. */
  get handshakeDone(): boolean {
    return this.greeted;
  }

  /** Frames can be written now: a socket is attached and open, and the connection is not over. */
  get isOpen(): boolean {
    return (
      (this.current === 'open' || this.current === 'connecting') && this.socket !== undefined && this.socket.isOpen
    );
  }

  /** Closed for good (not merely without a socket for now). */
  get ended(): boolean {
    return this.current === 'closed';
  }

  /** Bytes written to the socket that the client has not taken yet, and those held for the batch's one write. */
  get bufferedBytes(): number {
    return (this.socket?.bufferedBytes ?? 0) + this.pendingBytes;
  }

  /** The transport of the current socket (undefined while a stateful session waits for its client). */
  get transport(): HubSocket['transport'] | undefined {
    return this.socket?.transport;
  }

  /** Owner: the socket attached now, if any. */
  get attachedSocket(): HubSocket | undefined {
    return this.socket;
  }

  /** The current socket, so a close event of an older one can be told apart. */
  isSocket(socket: HubSocket): boolean {
    return this.socket === socket;
  }

  /** Owner: the client came back (stateful reconnect) with a new socket, and possibly a fresh token. */
  attach(socket: HubSocket, user: AuthenticatedUser, now: number): void {
    this.socket = socket;
    this.user = user;
    this.expiresAt = expiryOf(user);
    this.lastReceivedAt = this.lastSentAt = now;
    if (this.session) this.session.detachedAt = undefined;
  }

  /** Owner: the socket went. A session keeps every message it numbered: nothing held needs sending to it. */
  detach(now: number): void {
    this.dropPending();
    this.socket = undefined;
    if (this.session) this.session.detachedAt = now;
  }

  /**
   * Owner: a resume's replay is numbered (`session`); the live messages that waited for it follow it now, except
   * those the replay covered (see `replayed`).
   */
  replayDone(session: StatefulSession, covered: { upTo: PositionVector; ids: ReadonlySet<string> }, now: number): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    this.session = session;
    this.replayed = covered;
    for (const message of held) this.keep(message.frame, message.origin, message.at, now);
  }

  /**
   * Whether what waits for the client is within the hard bound; if not, the owner ends the connection. Checked
   * before every frame of every kind is queued: the frame at hand never counts, so a connection holds at most the
   * bound plus one frame.
   */
  private withinBounds(): boolean {
    const buffered = this.bufferedBytes;
    if (buffered <= this.owner.bounds.hardLimitBytes) return true;
    this.overflow('slow_client', buffered);
    return false;
  }

  private overflow(bound: ConnectionOverflow, bytes: number): void {
    this.owner.overflowed(this, bound, bytes);
    // Whatever the owner did, nothing more is queued for this connection.
    if (this.current !== 'closed') this.owner.terminate(this);
  }

  /** Sends one uncounted frame (handshake answer, ping, ack, sequence). */
  send(frame: string | Buffer, now: number): void {
    if (!this.isOpen || !this.withinBounds()) return;
    if (this.pending !== undefined) {
      const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
      if (this.pending === null) this.pending = bytes;
      else if (Array.isArray(this.pending)) this.pending.push(bytes);
      else this.pending = [this.pending, bytes];
      this.pendingBytes += bytes.length;
    } else this.socket!.send(frame, this.codec.binary);
    this.lastSentAt = now;
  }

  /**
   * A delivery's frame, shared with its other recipients; false when it was neither sent nor kept. In a `batch`,
   * the connection holds its frames for one write, which the batch's end flushes.
   * - With a session (or while one is resuming) it is numbered and kept until acknowledged, socket or not, volatile
   *   too: a crash replay must number what was sent exactly as it was. Its bound is the replay buffer: past it the
   *   client is closed reconnectably and starts over.
   * - Otherwise it is written, unless the client is backed up: past the soft bound a volatile one is skipped; past
   *   the hard bound the connection is closed.
   */
  deliver(frame: SharedFrame, origin: MessageOrigin, now: number, batch?: HubConnection[]): boolean {
    if (this.current === 'closed' || this.current === 'connecting') return false;
    // In a delivery batch, the first frame starts holding for the batch's one write (see DeliveryService.batch).
    if (batch && this.hold()) batch.push(this);
    if (this.session || this.held) return this.keep(frame.payload, origin, origin.at, now);
    if (!this.isOpen) return false;
    if (origin.volatile && this.bufferedBytes > this.owner.bounds.softLimitBytes) {
      this.owner.skippedVolatile(this);
      return false;
    }
    return this.sendShared(frame, now);
  }

  /** Writes a frame shared with other recipients (held instead while a batch runs). */
  private sendShared(frame: SharedFrame, now: number): boolean {
    if (!this.isOpen || !this.withinBounds()) return false;
    if (this.pending !== undefined) {
      this.send(frame.payload, now);
      return true;
    }
    this.socket!.sendShared(frame);
    this.lastSentAt = now;
    return true;
  }

  /**
   * Numbers and keeps a message for the session (sent too when the socket is there), or holds it while the session
   * is being resumed. A `released` message (see MessageOrigin) marks the session's record behind before it goes,
   * and no checkpoint is written until the client acknowledged it: a crash meanwhile refuses the resume (the client
   * starts over and re-fetches) instead of renumbering.
   */
  private keep(frame: Buffer, origin: MessageOrigin, at: PositionVector | undefined, now: number): boolean {
    if (this.held) {
      // Copied: the origin is the delivery's, reused for its next envelope.
      const { envelopeId, volatile, entry, released } = origin;
      this.held.push({ frame, origin: { envelopeId, volatile, entry, released, at }, at });
      this.heldBytes += frame.length;
      if (this.heldBytes > this.owner.bounds.replayBufferBytes) this.overflow('replay_buffer', this.heldBytes);
      return true;
    }
    if (this.replayed && this.coveredByReplay(origin)) return true;
    const session = this.session!;
    if (origin.released) session.diverge();
    session.push(frame, at, origin.entry ? 'regenerable' : 'foreign');
    if (origin.released) session.releasedOutOfStreamOrder();
    if (this.sessionWithinBound()) this.send(frame, now);
    return true;
  }

  /**
   * Answers a client's invoke. With a session it is numbered, and recorded with the consumer's place so a crash
   * replay gives it the same id (Redis told first that the record is behind); it counts against the replay buffer.
   */
  complete(frame: Buffer, now: number): void {
    if (this.current === 'closed') return;
    const session = this.session;
    if (session) {
      session.diverge();
      session.pushCompletion(frame, this.owner.position());
      if (!this.sessionWithinBound()) return;
    }
    this.send(frame, now);
  }

  /**
   * An envelope of one of its targets waits for an earlier one: a stateful session's record would say it got what
   * came before it in the stream (see StatefulSession.waitForOrder).
   */
  orderHeld(): void {
    if (!this.session) return;
    this.session.diverge();
    this.session.waitForOrder();
  }

  /**
   * Starts holding frames for one write (a delivery batch); false when it already does or has no open socket. Both
   * protocols allow several messages in one frame, and one write instead of several is what makes a batch cheap
   * per message.
   */
  hold(): boolean {
    if (this.pending !== undefined || !this.isOpen) return false;
    this.pending = null;
    return true;
  }

  /** Sends what was held as one frame, and stops holding. */
  flush(): void {
    const pending = this.pending;
    const bytes = this.pendingBytes;
    this.dropPending();
    if (!pending || !this.isOpen) return;
    this.socket!.send(Array.isArray(pending) ? Buffer.concat(pending, bytes) : pending, this.codec.binary);
  }

  private dropPending(): void {
    this.pending = undefined;
    this.pendingBytes = 0;
  }

  private sessionWithinBound(): boolean {
    const bytes = this.session!.heldBytes;
    if (bytes <= this.owner.bounds.replayBufferBytes) return true;
    this.overflow('replay_buffer', bytes);
    return false;
  }

  private coveredByReplay({ entry, envelopeId }: MessageOrigin): boolean {
    const { upTo, ids } = this.replayed!;
    if (entry) {
      const last = upTo[entry.key];
      return last !== undefined && compareStreamIds(entry.id, last) <= 0;
    }
    return ids.has(envelopeId);
  }

  /** Ends the connection with a close message carrying `error` (see CloseOptions): its owner does it. */
  close(error?: string, options: CloseOptions = {}): void {
    this.owner.close(this, error, options);
  }

  /** Ends the connection without a goodbye (its socket is gone or hopeless): its owner does it. */
  terminate(): void {
    this.owner.terminate(this);
  }

  /**
   * Owner: the socket's side of a close. What a batch held goes before the close message, unless the client is cut
   * for not reading; the close message only once the client finished its handshake.
   */
  shutSocket(error: string | undefined, { reconnect = true, cut = false }: CloseOptions): void {
    if (cut) this.dropPending();
    else this.flush();
    const socket = this.socket;
    if (!socket) return;
    if (!socket.isOpen) return socket.terminate();
    if (this.greeted) socket.send(this.codec.close(error, reconnect), this.codec.binary);
    if (cut) socket.terminate();
    else socket.close(error ? 1011 : 1000, error?.slice(0, 120));
  }

  /** Owner: drops the socket now. */
  terminateSocket(): void {
    this.dropPending();
    this.socket?.terminate();
  }

  /** Cuts the socket without a close message, so a stateful client resumes (a handover on shutdown). */
  cut(): void {
    this.terminateSocket();
  }
}
