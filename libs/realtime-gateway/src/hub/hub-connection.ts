import type { WebSocket } from 'ws';
import { type AuthenticatedUser, expiryOf } from '../auth/access-token-verifier';
import { closeFrame } from './hub-protocol';
import type { InvocationBudget } from './invocation-budget';

/** Every frame of the JSON protocol is text; one options object for all sends. */
const TEXT = { binary: false } as const;

/** One client connection on the hub. */
export class HubConnection {
  readonly groups = new Set<string>();
  readonly openedAt: number;
  lastReceivedAt: number;
  lastSentAt: number;
  /** When the connection's token expires (epoch ms); undefined when it does not. */
  readonly expiresAt: number | undefined;
  handshakeDone = false;
  private closed = false;

  constructor(
    readonly id: string,
    readonly user: AuthenticatedUser,
    private readonly socket: WebSocket,
    now: number,
    readonly invocations: InvocationBudget,
  ) {
    this.openedAt = this.lastReceivedAt = this.lastSentAt = now;
    this.expiresAt = expiryOf(user);
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Bytes written to the socket that the client has not taken yet. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends one text frame (a string, or a shared buffer for broadcasts). */
  send(frame: string | Buffer, now: number): void {
    if (!this.isOpen) return;
    this.socket.send(frame, TEXT);
    this.lastSentAt = now;
  }

  /**
   * Sends a close message with the reason, then closes the socket. `immediately` cuts the socket right after
   * (a client that does not read would never complete the close handshake, and its buffers must go now).
   */
  close(error?: string, allowReconnect = true, immediately = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.socket.readyState !== this.socket.OPEN) {
      this.socket.terminate();
      return;
    }
    if (this.handshakeDone) this.socket.send(closeFrame(error, allowReconnect));
    if (immediately) this.socket.terminate();
    else this.socket.close(error ? 1011 : 1000, error?.slice(0, 120));
  }

  /** Drops the socket without a goodbye (it is gone or hopeless). */
  terminate(): void {
    this.closed = true;
    this.socket.terminate();
  }
}
