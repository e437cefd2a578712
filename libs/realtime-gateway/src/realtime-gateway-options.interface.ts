import type { AccessTokenVerifier, AuthenticatedUser } from './auth/access-token-verifier';
import type { JwtVerificationOptions } from './auth/jwt-verification-options';

/**
 * Hub methods that join and leave groups. `toGroup` maps the method's arguments to a group name, so an application
 * can expose `JoinRoom(roomId)` for group `room:<roomId>`.
 */
export interface GroupMethods {
  /** Method that joins a group. @default 'JoinGroup' */
  join: string;
  /** Method that leaves a group. @default 'LeaveGroup' */
  leave: string;
  /** Group named by the arguments. @default the first argument, as is */
  toGroup?: (...args: unknown[]) => string;
}

/** Context of a hub method call. */
export interface HubCallContext {
  readonly connectionId: string;
  readonly user: AuthenticatedUser;
}

/** An application hub method; what it returns (or resolves to) is the client's `invoke` result. */
export type HubMethod = (context: HubCallContext, ...args: unknown[]) => unknown;

export interface HubOptions {
  /** Path of the hub (negotiate is `<path>/negotiate`). @default '/hubs/realtime' */
  path?: string;
  /** Group membership methods. @default [{ join: 'JoinGroup', leave: 'LeaveGroup' }] */
  groupMethods?: GroupMethods[];
  /** Decides whether a user may join a group. @default every authenticated user may join any group */
  authorizeGroup?: (user: AuthenticatedUser, group: string) => boolean | Promise<boolean>;
  /** More hub methods clients can `invoke`/`send`, by name (case-insensitive). */
  methods?: Record<string, HubMethod>;
  /** Origins allowed to negotiate and connect from a browser; `'*'` echoes any origin. @default [] (same origin) */
  corsOrigins?: string[] | '*';
  /** Ping interval while a connection is idle. @default 15000 */
  keepAliveIntervalMs?: number;
  /** A client silent for this long is closed (the stock client pings every 15 s). @default 30000 */
  clientTimeoutMs?: number;
  /** Time a client has to send its handshake. @default 15000 */
  handshakeTimeoutMs?: number;
  /** Largest message a client may send. @default 65536 */
  maxMessageBytes?: number;
  /** Time between negotiate and the WebSocket connect. @default 30000 */
  negotiateTtlMs?: number;
}

export interface GatewayRedisOptions {
  /** @default 'redis://127.0.0.1:6379' */
  url: string;
  /** Must match the publisher's. @default 'realtime' */
  streamKeyPrefix?: string;
  /** Must match the publisher's. @default 1 */
  shards?: number;
  /** `XREADGROUP ... BLOCK`, in ms. @default 5000 */
  blockMs?: number;
  /** Entries per read. @default 256 */
  readCount?: number;
  /** Groups of other instances idle longer than this are removed. @default 3600000 (1 h) */
  groupMaxIdleMs?: number;
  /** Interval of lag, pending and trimming checks. @default 5000 */
  monitorIntervalMs?: number;
}

export interface BridgeReceiverOptions {
  /** Path of the POST endpoint. @default '/internal/realtime/events' */
  path?: string;
  /** Bearer secret publishers must send. */
  secret: string;
  /** Largest request body. @default 5242880 (5 MiB) */
  maxBodyBytes?: number;
}

/** Bounds on what waits on one client's socket; only bytes already waiting count, never the envelope at hand. */
export interface SlowClientOptions {
  /** Above this many bytes already waiting on a socket, volatile envelopes are not sent to it. @default 262144 */
  softLimitBytes?: number;
  /**
   * A socket with more than this many bytes already waiting is closed with a reason; below it, any envelope is sent
   * (one large envelope to an idle client is never a reason to close it), so a client holds at most this plus one
   * envelope. Must hold one largest envelope: at least `envelopes.maxArgsBytes` + 256 (checked at start-up).
   * @default 1048576
   */
  hardLimitBytes?: number;
}

/**
 * Bounds of every envelope the gateway takes in (HTTP bridge: the batch is refused with 400; stream: the entry is
 * skipped and acknowledged); each refusal is counted in `realtime_gateway_invalid_envelopes_total{transport,reason}`.
 * Publishers apply the same bounds (same env names).
 */
export interface EnvelopeLimitOptions {
  /** Largest serialized `args` of one envelope, in UTF-8 bytes (`REALTIME_MAX_ARGS_BYTES`). @default 65536 */
  maxArgsBytes?: number;
  /** Deepest nesting of `args`, the args array being level 1 (`REALTIME_MAX_ARGS_DEPTH`). @default 32 */
  maxArgsDepth?: number;
}

export interface GatewayAuthOptions {
  /** Your own verifier (opaque tokens, sessions, ...); wins over `jwt` and `jwtSecret`. */
  verifier?: AccessTokenVerifier;
  /** Settings of the default JWT verifier (HS256, or RS256/ES256 with a public key or JWKS URL). */
  jwt?: JwtVerificationOptions;
  /** Shorthand for `jwt: { secret }`. */
  jwtSecret?: string;
  /**
   * Close an open connection when its token expires, with a close message that lets the client reconnect (it then
   * negotiates with a fresh token), like ASP.NET's `CloseOnAuthenticationExpiration`.
   * @default true
   */
  closeOnExpiration?: boolean;
}

/** Per-client bounds; each refusal is counted in `realtime_client_limit_hits_total{limit}`. */
export interface ClientLimitOptions {
  /** Invocations a connection may make per second, sustained (token bucket). @default 20 */
  invocationsPerSecond?: number;
  /** Invocations a connection may make at once above the rate (bucket size). @default 40 */
  invocationBurst?: number;
  /**
   * Refused invocations in a row (no accepted one in between) after which the connection is closed without
   * reconnect: a client that keeps calling past its limit is abusive, not unlucky.
   * @default 100
   */
  maxRefusedInvocations?: number;
  /** Groups one connection may be in at once. @default 100 */
  maxGroupsPerConnection?: number;
  /** Connections (open, or negotiated and not yet connected) one user may hold. @default 20 */
  maxConnectionsPerUser?: number;
}

export interface DedupOptions {
  /** An id is remembered this long. @default 300000 */
  ttlMs?: number;
  /** Ids remembered at most. @default 100000 */
  maxEntries?: number;
}

/**
 * SignalR stateful reconnect (clients built with `withStatefulReconnect()`): a client whose socket drops comes back
 * to the same URL, on any instance, and gets what it missed, numbered, without a new connection.
 */
export interface StatefulReconnectOptions {
  /** Offer it to clients that ask. @default true */
  enabled?: boolean;
  /**
   * Bytes sent to one connection and not acknowledged that are kept for a resend. Past it the connection is closed
   * with a reconnectable close message (the client starts a new connection and re-fetches): a broadcast never waits
   * for one client, unlike ASP.NET, which blocks the sender. @default 100000
   */
  bufferBytes?: number;
  /** How long a session whose socket went stays resumable. @default 30000 */
  windowMs?: number;
}

export interface RealtimeGatewayOptions {
  /** Name of this instance: its consumer group is `gateway:<instanceId>`. @default `<hostname>-<pid>` */
  instanceId?: string;
  hub?: HubOptions;
  /** Token verification: a verifier, or the settings of the default JWT verifier. One is required. */
  auth: GatewayAuthOptions;
  /** Redis stream consumer. Leave out to run without Redis (bridge and in-process only). */
  redis?: GatewayRedisOptions;
  /** HTTP bridge receiver. Leave out to disable it. */
  bridge?: BridgeReceiverOptions;
  slowClients?: SlowClientOptions;
  envelopes?: EnvelopeLimitOptions;
  dedup?: DedupOptions;
  limits?: ClientLimitOptions;
  statefulReconnect?: StatefulReconnectOptions;
  /**
   * Time shutdown may take: refusing new clients, stopping the stream consumer, closing every connection with a
   * reconnectable close message, then cutting what is left.
   * @default 5000
   */
  shutdownTimeoutMs?: number;
  /**
   * Register as the sink of the publisher's in-process transport when `RealtimeTransportModule` is in the same
   * application.
   * @default true
   */
  inProcess?: boolean;
}

export interface ResolvedGatewayOptions {
  instanceId: string;
  hub: Required<Omit<HubOptions, 'authorizeGroup' | 'methods'>> & Pick<HubOptions, 'authorizeGroup' | 'methods'>;
  verifier: AccessTokenVerifier;
  redis?: Required<GatewayRedisOptions>;
  bridge?: Required<BridgeReceiverOptions>;
  slowClients: Required<SlowClientOptions>;
  envelopes: Required<EnvelopeLimitOptions>;
  dedup: Required<DedupOptions>;
  limits: Required<ClientLimitOptions>;
  statefulReconnect: Required<StatefulReconnectOptions>;
  closeOnTokenExpiry: boolean;
  shutdownTimeoutMs: number;
  inProcess: boolean;
}
