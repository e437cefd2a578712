// For the unit specs only (excluded from the build): a socket and an owner that record what a connection does.
import type { AuthenticatedUser } from '../auth/access-token-verifier';
import type { CloseOptions, ConnectionBounds, ConnectionOverflow, ConnectionOwner } from './connection-owner';
import { HubConnection } from './hub-connection';
import { InvocationBudget } from './invocation-budget';
import type { PositionVector } from './session/stream-positions';
import type { HubSocket } from './transports/hub-socket';
import type { SharedFrame } from './transports/shared-frame';

/** A socket whose unread bytes the test sets; it records what it is given. */
export class FakeSocket implements HubSocket {
  readonly transport = 'WebSockets' as const;
  readonly carriesBinary = true;
  isOpen = true;
  bufferedBytes = 0;
  readonly sent: Buffer[] = [];
  send(frame: string | Buffer): void {
    this.sent.push(Buffer.from(frame));
  }
  sendShared(frame: SharedFrame): void {
    this.sent.push(frame.payload);
  }
  private closeListener?: () => void;
  close(): void {
    this.isOpen = false;
  }
  terminate(): void {
    this.isOpen = false;
  }
  onMessage(): void {}
  onClose(listener: () => void): void {
    this.closeListener = listener;
  }
  /** The transport's close event: the socket is gone, however it ended. */
  gone(): void {
    this.isOpen = false;
    this.closeListener?.();
  }
}

/** An owner that ends a connection as HubConnections would, and records the bounds passed and volatiles skipped. */
export class FakeOwner implements ConnectionOwner {
  readonly overflows: Array<{ bound: ConnectionOverflow; bytes: number }> = [];
  skipped = 0;
  at: PositionVector | undefined = {};

  constructor(readonly bounds: ConnectionBounds) {}

  overflowed(connection: HubConnection, bound: ConnectionOverflow, bytes: number): void {
    this.overflows.push({ bound, bytes });
    this.terminate(connection);
  }
  skippedVolatile(): void {
    this.skipped++;
  }
  close(connection: HubConnection, reason: string | undefined, options: CloseOptions): void {
    if (connection.ended) return;
    connection.shutSocket(reason, options);
    connection.moveTo('closed');
  }
  terminate(connection: HubConnection): void {
    if (connection.ended) return;
    connection.terminateSocket();
    connection.moveTo('closed');
  }
  position(): PositionVector | undefined {
    return this.at;
  }
}

/** An open connection (handshake done) of user `u1` on `socket`, or a resuming one without a socket. */
export function openConnection(owner: ConnectionOwner, socket?: HubSocket, id = 'c1'): HubConnection {
  const user: AuthenticatedUser = { id: 'u1', claims: {} };
  const connection = new HubConnection({
    id,
    user,
    socket,
    now: 0,
    invocations: new InvocationBudget(10, 10, 0),
    owner,
  });
  if (socket) connection.moveTo('open');
  return connection;
}
