/**
 * Where a hub connection is in its life. Only its owner (HubConnections) moves it, and every move has its
 * bookkeeping there: the routing indexes, the per-user count, metrics, the stateful session, and what observers
 * (presence, per-connection accounting) are told.
 *
 * - `connecting`: a socket was admitted; the client has not finished its handshake. Not routable.
 * - `open`: handshake done (or a session resumed) and a socket attached: deliveries and invocations flow.
 * - `detached`: a stateful session whose socket went without a close message. It stays routable: what it is sent
 *   is numbered and kept until the client comes back (here, or elsewhere from its record) or the window passes.
 * - `resuming`: a session recorded by another instance being rebuilt here from its record and the stream.
 *   Routable: live messages wait until the replay is numbered, then follow it.
 * - `closed`: over for good. Nothing is sent, nothing is indexed, its user's place is free.
 */
export type ConnectionState = 'connecting' | 'open' | 'detached' | 'resuming' | 'closed';

/** The moves a connection may make; anything else is a bug in the owner, refused loudly. */
const NEXT: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ['open', 'closed'],
  open: ['detached', 'closed'],
  detached: ['open', 'closed'],
  // A rebuilt session waits for the socket of the request that resumed it, like any detached one.
  resuming: ['detached', 'closed'],
  closed: [],
};

export function mayMove(from: ConnectionState, to: ConnectionState): boolean {
  return NEXT[from].includes(to);
}

/** Whether envelopes are routed to a connection in this state (it is in the registry). */
export function isRoutable(state: ConnectionState): boolean {
  return state === 'open' || state === 'detached' || state === 'resuming';
}
