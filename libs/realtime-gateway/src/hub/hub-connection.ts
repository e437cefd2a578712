import { type AuthenticatedUser, expiryOf } from '../auth/access-token-verifier';
import type { ConnectionBounds, ConnectionOverflow } from './connection-bounds';
import type { InvocationBudget } from './invocation-budget';
import type { HubProtocolCodec } from './protocols/hub-protocol-codec';
import { JSON_HUB_PROTOCOL } from './protocols/json-hub-protocol';
import type { StatefulSession } from './session/stateful-session';
import { compareStreamIds } from './session/stream-ids';
import type { PositionVector } from './session/stream-positions';
import type { HubSocket } from './transports/hub-socket';
import type { SharedFrame } from './transports/shared-frame';

/** A message that reached a resuming session before its replay was done: numbered after the replay. */
export interface HeldMessage {
  frame: string | Buffer;
  at: PositionVector | undefined;
  /** The stream entry it came from (undefined: bridge or in-process). */
  entry?: { key: string; id: string };
  envelopeId?: string;
}

/**
 * One client connection on the hub. With stateful reconnect it has a session, and it outlives its socket: while
 * the socket is gone the connection stays in the registry and keeps numbering and buffering what it is sent, until
 * the client comes back with a new socket (`attach`) or the reconnect window passes.
 */
export class HubConnection {
  readonly groups = new Set<string>();
  readonly openedAt: number;
  lastReceivedAt: number;
  lastSentAt: number;
  /** When the connection's token expires (epoch ms); undefined when it does not. */
  expiresAt: number | undefined;
  handshakeDone = false;
  /** The connection token, when it was negotiated with stateful reconnect: the handshake decides on a session. */
  statefulToken: string | undefined;
  /** The hub protocol the handshake chose (JSON until then: handshake errors are JSON). */
  codec: HubProtocolCodec = JSON_HUB_PROTOCOL;
  /** Stateful reconnect: message ids, the replay buffer, what a resume elsewhere needs. */
  session?: StatefulSession;
  /** Set while a resumed session's replay is being prepared: live messages wait here. */
  held?: HeldMessage[];
  /** Bytes of `held`: they count against the replay buffer like the session's own. */
  private heldBytes = 0;
  /** Group joins whose authorization is being checked: they count against the groups bound. */
  joining = 0;
  /**
   * After a resume on this instance: what the replay covered (stream entries up to these ids, these envelope ids).
   * This instance's consumer may still be behind the replay; what it delivers from there is not sent twice.
   */
  replayed?: { upTo: PositionVector; ids: ReadonlySet<string> };
  private closed = false;
  /**
   * While a delivery batch runs: its frames for this connection, sent as one frame when it ends. One frame is kept
   * as is (most connections get one per batch), an array only from the second.
   */
  private pending?: Buffer | Buffer[] | null;
  private pendingBytes = 0;

  constructor(
    readonly id: string,
    public user: AuthenticatedUser,
    private socket: HubSocket | undefined,
    now: number,
    readonly invocations: InvocationBudget,
    private readonly bounds: ConnectionBounds,
  ) {
    this.openedAt = this.lastReceivedAt = this.lastSentAt = now;
    this.expiresAt = expiryOf(user);
  }

  get isOpen(): boolean {
    return !this.closed && this.socket !== undefined && this.socket.isOpen;
  }

  /** Closed for good (not merely without a socket for now). */
  get ended(): boolean {
    return this.closed;
  }

  /** Bytes written to the socket that the client has not taken yet, and those held for the batch's one write. */
  get bufferedBytes(): number {
    return (this.socket?.bufferedBytes ?? 0) + this.pendingBytes;
  }

  /** The transport of the current socket (undefined while a stateful session waits for its client). */
  get transport(): HubSocket['transport'] | undefined {
    return this.socket?.transport;
  }

  /** The current socket, so a close event of an older one can be told apart. */
  isSocket(socket: HubSocket): boolean {
    return this.socket === socket;
  }

  /** The client came back (stateful reconnect) with a new socket, and possibly a fresh token. */
  attach(socket: HubSocket, user: AuthenticatedUser, now: number): void {
    this.socket = socket;
    this.user = user;
    this.expiresAt = expiryOf(user);
    this.lastReceivedAt = this.lastSentAt = now;
    if (this.session) this.session.detachedAt = undefined;
  }

  /** The socket went without a close message: the session waits for the client to come back. */
  detach(now: number): void {
    // The session keeps every message it numbered: nothing held needs sending to a socket that is gone.
    this.dropPending();
    this.socket = undefined;
    if (this.session) this.session.detachedAt = now;
  }

  /**
   * Whether what waits for the client is within the hard bound; if not, the owner ends the connection. Checked
   * before every frame of every kind is queued: the frame at hand never counts, so a connection holds at most the
   * bound plus one frame.
   */
  private withinBounds(): boolean {
    const buffered = this.bufferedBytes;
    if (buffered <= this.bounds.hardLimitBytes) return true;
    this.overflow('slow_client', buffered);
    return false;
  }

  private overflow(bound: ConnectionOverflow, bytes: number): void {
    this.bounds.overflowed(this, bound, bytes);
    // Whatever the owner did, nothing more is queued for this connection.
    if (!this.closed) this.terminate();
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
   * Sends a delivery's frame, shared with its other recipients (held instead while a batch runs); false when it was
   * not (closed, or over the hard bound: then the connection is being closed).
   */
  sendShared(frame: SharedFrame, now: number): boolean {
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
   * Starts holding frames for one write (a delivery batch); false when it already does. Both protocols allow
   * several messages in one frame, and one write instead of several is what makes a batch cheap per message.
   */
  hold(): boolean {
    if (this.pending !== undefined) return false;
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

  /**
   * Sends a counted message (types 1-5). With a session it is numbered and kept until the client acknowledges it,
   * and sent only if the socket is there (a resumed client gets it with the resend). Past the replay buffer the
   * connection is ended (its owner closes it reconnectably): the client starts over rather than miss a message.
   */
  sendMessage(
    frame: string | Buffer,
    now: number,
    at?: PositionVector,
    entry?: HeldMessage['entry'],
    envelopeId?: string,
  ): void {
    if (this.closed) return;
    if (this.held) {
      this.held.push({ frame, at, entry, envelopeId });
      this.heldBytes += byteLength(frame);
      if (this.heldBytes > this.bounds.replayBufferBytes) this.overflow('replay_buffer', this.heldBytes);
      return;
    }
    if (this.replayed && this.coveredByReplay(entry, envelopeId)) return;
    if (this.session) {
      this.session.push(frame, at, entry === undefined);
      if (!this.sessionWithinBound()) return;
    }
    this.send(frame, now);
  }

  /**
   * Answers a client's invoke. With a session it is numbered, and recorded with the consumer's place `at` so a
   * crash replay gives it the same id; it counts against the replay buffer like any message.
   */
  sendCompletion(frame: Buffer, now: number, at: PositionVector | undefined): void {
    if (this.closed) return;
    if (this.session) {
      this.session.pushCompletion(frame, at);
      if (!this.sessionWithinBound()) return;
    }
    this.send(frame, now);
  }

  /** Live messages held during a resume, taken to be numbered after the replay. */
  takeHeld(): HeldMessage[] {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    return held;
  }

  private sessionWithinBound(): boolean {
    const bytes = this.session!.heldBytes;
    if (bytes <= this.bounds.replayBufferBytes) return true;
    this.overflow('replay_buffer', bytes);
    return false;
  }

  private coveredByReplay(entry: HeldMessage['entry'], envelopeId: string | undefined): boolean {
    const { upTo, ids } = this.replayed!;
    if (entry) {
      const last = upTo[entry.key];
      return last !== undefined && compareStreamIds(entry.id, last) <= 0;
    }
    return envelopeId !== undefined && ids.has(envelopeId);
  }

  /**
   * Sends a close message with the reason, then closes the socket. `immediately` cuts the socket right after
   * (a client that does not read would never complete the close handshake, and its buffers must go now).
   */
  close(error?: string, allowReconnect = true, immediately = false): void {
    if (this.closed) return;
    // What a batch held goes before the close message, unless the client is cut for not reading.
    if (immediately) this.dropPending();
    else this.flush();
    this.closed = true;
    const socket = this.socket;
    if (!socket) return;
    if (!socket.isOpen) {
      socket.terminate();
      return;
    }
    if (this.handshakeDone) socket.send(this.codec.close(error, allowReconnect), this.codec.binary);
    if (immediately) socket.terminate();
    else socket.close(error ? 1011 : 1000, error?.slice(0, 120));
  }

  /** Drops the socket without a goodbye (it is gone or hopeless); the connection is over. */
  terminate(): void {
    this.dropPending();
    this.closed = true;
    this.socket?.terminate();
  }

  /** Cuts the socket without a close message, so a stateful client resumes (a handover on shutdown). */
  cut(): void {
    this.dropPending();
    this.socket?.terminate();
  }
}

function byteLength(frame: string | Buffer): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
}
