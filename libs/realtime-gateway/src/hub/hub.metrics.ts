import type { HubProtocolErrorReason } from './hub-protocol';
import type { HubProtocolName } from './protocols/hub-protocol-codec';
import type { TransportName } from './transports/hub-socket';

/** Why a client connection was closed for its protocol: a bad frame, or the handshake (wrong, late) or a bug here. */
export type ClientProtocolError = HubProtocolErrorReason | 'handshake' | 'handshake_timeout' | 'internal';

/** The per-client limit a request was refused by (the `limit` label). */
export type ClientLimit =
  'arguments' | 'arguments_depth' | 'invocations' | 'invocations_close' | 'groups' | 'connections' | 'replay_buffer';

/** Where a token was refused: at negotiate, at connect, or when it expired on an open connection. */
export type AuthFailure = 'negotiate' | 'connect' | 'expired';

/** The labels of an open connection (`none`: a stateful session waiting for its client). */
export type ConnectionKind = { protocol: HubProtocolName; transport: TransportName | 'none' };

/** What the hub reports; the Prometheus implementation lives in metrics/. */
export interface HubMetrics {
  /** A connection finished its handshake, or a session was resumed. */
  connectionOpened(kind: ConnectionKind): void;
  /** The socket of a connection that had finished its handshake went. */
  connectionClosed(kind: ConnectionKind): void;
  protocolError(reason: ClientProtocolError): void;
  clientLimitHit(limit: ClientLimit): void;
  authFailed(reason: AuthFailure): void;
  /** A stateful session resumed on the instance that held it or another one, with `replayed` messages resent. */
  sessionResumed(instance: 'same' | 'other', replayed: number): void;
  /** A client closed because its socket stayed backed up past the hard bound. */
  slowClientDisconnected(): void;
  /** A volatile envelope not sent to a backed-up client (over the soft bound). */
  slowClientDropped(): void;
}
