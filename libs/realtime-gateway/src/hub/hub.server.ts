import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { WebSocketServer } from 'ws';
import type { RealtimeTarget } from '@realtime-streams/contracts';
import type { AccessTokenVerifier, AuthenticatedUser } from '../auth/access-token-verifier';
import { rejectUpgrade } from '../http/http-takeover';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import type { ConnectionRegistry } from './connection-registry';
import type { ConnectionBounds, ConnectionOverflow } from './connection-bounds';
import type { CorsPolicy } from './cors-policy';
import { HubConnection } from './hub-connection';
import type { HubInvoker } from './hub-invoker';
import type { HubMetrics } from './hub.metrics';
import { InvocationBudget } from './invocation-budget';
import { authenticate, mayConnect, tooManyConnections } from './negotiate.handler';
import type { NegotiatedConnections } from './negotiated-connections';
import type { UserConnectionCounter } from './user-connection-counter';
import { hubProtocolNamed } from './protocols/hub-protocols';
import { groupsAfter } from './session/session-replay';
import type { StatefulSessions } from './session/stateful-sessions';
import type { HubSocket, TransportName } from './transports/hub-socket';
import { WebSocketHubSocket } from './transports/websocket-hub-socket';
import { HubMessages, kindOf } from './hub-messages';

/** How the upgrade of a connection token resolved: a new connection, or a session to resume. */
type Opening =
  | { kind: 'new'; connectionId: string; stateful: boolean }
  | { kind: 'resume-here'; connection: HubConnection }
  | { kind: 'resumed'; connection: HubConnection; replayed: number };

/** A request allowed to open (or resume) a connection, or why not (an HTTP status, its text and a reason). */
export type Admission =
  | { ok: true; user: AuthenticatedUser; token: string | null; opening: Opening }
  | { ok: false; status: number; text: string; reason: string };

/** What the hub enforces per client, besides the protocol. */
export type ClientPolicy = Pick<
  ResolvedGatewayOptions,
  'limits' | 'closeOnTokenExpiry' | 'slowClients' | 'statefulReconnect' | 'envelopes'
>;

/** Why a connection token opens nothing, as the HTTP answer says it. */
const REFUSED_TOKENS = {
  unknown: { status: 404, text: 'Not Found', reason: 'unknown connection id' },
  taken: { status: 409, text: 'Conflict', reason: 'connection id already in use' },
  wrong_user: { status: 401, text: 'Unauthorized', reason: 'token does not match the negotiated user' },
  too_many: { status: 429, text: 'Too Many Requests', reason: 'too many connections for this user' },
} as const;
type RefusedToken = keyof typeof REFUSED_TOKENS;

/**
 * The hub's connections: admission on any transport (the WebSocket upgrade here, the HTTP transports through
 * `admit` and `connect`), with the negotiated id or none under `skipNegotiation`; opening and resuming; what the
 * client sends goes to HubMessages; keep-alive pings, timeouts and token expiry; shutdown.
 */
export class HubServer {
  private readonly logger = new Logger('RealtimeHub');
  private readonly wss: WebSocketServer;
  /** Every socket, handshake done or not (the registry only holds the ready ones). */
  private readonly sockets = new Set<HubConnection>();
  private sweeper?: NodeJS.Timeout;
  private readonly messages: HubMessages;
  /** Connections counted against their user's bound: from open (or resume elsewhere) until over for good. */
  private readonly counted = new WeakSet<HubConnection>();
  private readonly bounds: ConnectionBounds;

  constructor(
    private readonly options: ResolvedGatewayOptions['hub'],
    private readonly verifier: AccessTokenVerifier,
    private readonly negotiated: NegotiatedConnections,
    private readonly cors: CorsPolicy,
    private readonly registry: ConnectionRegistry,
    private readonly invoker: HubInvoker,
    private readonly metrics: HubMetrics,
    private readonly policy: ClientPolicy,
    private readonly userSockets: UserConnectionCounter,
    private readonly sessions: StatefulSessions,
  ) {
    invoker.onGroupChange = (connection, kind, group) => {
      if (!connection.session) return;
      // Redis is told the record is behind before the change takes effect (see StatefulSessions.unrecorded).
      sessions.unrecorded(connection);
      connection.session.groupChanged(kind, group, sessions.position());
    };
    // A stateful session whose socket went still counts: it can come back at any moment.
    sessions.onEnded = (connection) => this.release(connection);
    this.bounds = {
      softLimitBytes: policy.slowClients.softLimitBytes,
      hardLimitBytes: policy.slowClients.hardLimitBytes,
      replayBufferBytes: policy.statefulReconnect.bufferBytes,
      overflowed: (connection, bound, bytes) => this.overflowed(connection, bound, bytes),
    };
    this.messages = new HubMessages(
      options.maxMessageBytes,
      registry,
      invoker,
      metrics,
      policy.limits,
      sessions,
      policy.envelopes.maxArgsDepth,
    );
    // ws refuses far bigger frames itself (close 1009); between the two bounds the client gets a proper close message.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes * 4,
      perMessageDeflate: false,
    });
  }

  start(): void {
    const every = Math.min(Math.max(Math.floor(this.options.keepAliveIntervalMs / 3), 50), 5000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /**
   * Closes every connection with a reason clients may reconnect on, giving them `graceMs` to complete the close
   * handshake; the rest are cut.
   */
  async stop(reason = 'Server is shutting down.', graceMs = 1000): Promise<void> {
    clearInterval(this.sweeper);
    for (const connection of this.sockets) connection.close(reason, true);
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of this.sockets) connection.terminate();
    this.wss.close();
  }

  /**
   * Closes every connection past the handshake with a close message the client reconnects on (`allowReconnect`),
   * carrying `reason`; returns how many. Used when this instance missed events whose targets it cannot know.
   */
  closeAllConnections(reason: string): number {
    return this.closeConnections([...this.sockets], [...this.registry.all], reason);
  }

  /** The same for the connections of several targets, each once: a bridge lane gave envelopes for them up. */
  closeTargetsConnections(targets: readonly RealtimeTarget[], reason: string): number {
    if (targets.some((target) => target.kind === 'all')) return this.closeAllConnections(reason);
    const members = new Set<HubConnection>();
    for (const target of targets) {
      if (target.kind === 'all') continue;
      const connections = target.kind === 'group' ? this.registry.group(target.name) : this.registry.user(target.id);
      for (const connection of connections) members.add(connection);
    }
    return this.closeConnections([...members], [...members], reason);
  }

  private closeConnections(sockets: HubConnection[], registered: HubConnection[], reason: string): number {
    // Sessions waiting for their socket, found before the open ones are closed (a closed one is not waiting: it would
    // be counted twice).
    const waiting = registered.filter((connection) => connection.session && !connection.isOpen);
    let closed = 0;
    for (const connection of sockets) {
      if (!connection.handshakeDone || !connection.isOpen) continue;
      connection.close(reason, true);
      closed++;
    }
    // Sessions waiting for their socket cannot be replayed past missed entries either: they end (the resume gets
    // 404 and the client starts over and re-fetches).
    for (const connection of waiting) {
      connection.terminate();
      this.registry.remove(connection);
      this.sessions.ended(connection);
      closed++;
    }
    return closed;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  readonly handleUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> => {
    const admission = await this.admit(request, url, 'WebSockets');
    if (!admission.ok) return rejectUpgrade(socket, admission.status, admission.text, admission.reason);
    // ws completes the upgrade synchronously (no verifyClient), so the check in admit() and the count in open()
    // cannot interleave with another upgrade of the same user.
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const hubSocket = new WebSocketHubSocket(ws, (error) => {
        // ws closes the socket itself (1009) for frames past its own bound.
        if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.metrics.protocolError('too_large');
        this.logger.debug(`socket of ${admission.user.id}: ${error.message}`);
      });
      this.connect(hubSocket, admission);
    });
  };

  /**
   * Authenticates a request that opens a connection on any transport and resolves its connection token. Only
   * WebSockets resume stateful sessions (as in the client); the other transports open new connections only.
   */
  async admit(request: IncomingMessage, url: URL, transport: TransportName): Promise<Admission> {
    if (!this.cors.allows(request)) return { ok: false, status: 403, text: 'Forbidden', reason: 'origin not allowed' };
    const user = await authenticate(this.verifier, request, url);
    if (typeof user === 'string') {
      this.metrics.authFailed('connect');
      return { ok: false, status: 401, text: 'Unauthorized', reason: user };
    }
    const token = url.searchParams.get('id');
    if (token) {
      const resolved = await this.resolveToken(token, user, transport === 'WebSockets');
      if (typeof resolved === 'string') return { ok: false, ...REFUSED_TOKENS[resolved] };
      return { ok: true, user, token, opening: resolved };
    }
    if (transport !== 'WebSockets')
      return { ok: false, status: 400, text: 'Bad Request', reason: 'this transport needs a negotiated connection id' };
    // A negotiated token was counted when it was handed out; a connection without one is counted here.
    const { maxConnectionsPerUser } = this.policy.limits;
    if (!mayConnect(user.id, this.userSockets, this.negotiated, maxConnectionsPerUser)) {
      this.metrics.clientLimitHit('connections');
      return { ok: false, status: 429, text: 'Too Many Requests', reason: tooManyConnections(maxConnectionsPerUser) };
    }
    // skipNegotiation connections never get stateful reconnect (the client only uses it after negotiate).
    const opening: Opening = { kind: 'new', connectionId: randomBytes(12).toString('base64url'), stateful: false };
    return { ok: true, user, token, opening };
  }

  /** Opens (or resumes) the connection an admission allowed, on the socket its transport made. */
  connect(socket: HubSocket, admission: Admission & { ok: true }): HubConnection | undefined {
    const { opening, user, token } = admission;
    if (opening.kind === 'new') return this.open(socket, opening.connectionId, user, token, opening.stateful);
    this.resume(
      socket,
      opening.connection,
      user,
      opening.kind === 'resume-here' ? 'same' : 'other',
      opening.kind === 'resumed' ? opening.replayed : undefined,
    );
    return opening.connection;
  }

  /**
   * What a connection token names, in this order: a token negotiated here, a session of this instance waiting for
   * its socket, a token negotiated on another instance, a session recorded by another instance.
   */
  private async resolveToken(
    token: string,
    user: AuthenticatedUser,
    resumable: boolean,
  ): Promise<Opening | RefusedToken> {
    const current = resumable ? this.sessions.connectedHere(token) : undefined;
    if (current) {
      // The client resumes while this instance still holds its old socket (a cut it has not noticed yet): the
      // client knows best, so the old socket goes and the session waits for the new one.
      if (current.user.id !== user.id) return 'taken';
      const old = this.socketOf.get(current);
      if (old) {
        this.socketClosed(current, old.socket, old.token);
        old.socket.terminate();
      }
    }
    const claim = this.negotiated.claim(token);
    if (claim === 'taken') return 'taken';
    if (claim !== 'unknown') {
      if (claim.user.id !== user.id) {
        this.negotiated.release(token);
        return 'wrong_user';
      }
      // Negotiated here, but the copy in Redis is what makes the token single-use across instances.
      if ((await this.sessions.takeNegotiated(token)) === null) {
        this.negotiated.release(token);
        return 'taken';
      }
      return { kind: 'new', connectionId: claim.connectionId, stateful: claim.stateful };
    }
    const waiting = resumable ? this.sessions.waiting(token) : undefined;
    if (waiting) {
      if (waiting.user.id !== user.id) {
        this.sessions.failed('wrong_user');
        return 'wrong_user';
      }
      return { kind: 'resume-here', connection: waiting };
    }
    if (!this.sessions.shared) return 'unknown';
    const elsewhere = await this.sessions.takeNegotiated(token);
    if (elsewhere) {
      if (elsewhere.userId !== user.id) return 'wrong_user';
      this.negotiated.markConnected(token);
      return { kind: 'new', connectionId: elsewhere.connectionId, stateful: elsewhere.stateful };
    }
    if (!resumable) return 'unknown';
    // A session resumed from another instance's record counts here from now on: checked, and the place taken
    // before anything is awaited, so resumes in parallel cannot pass the bound together.
    const { maxConnectionsPerUser } = this.policy.limits;
    if (!mayConnect(user.id, this.userSockets, this.negotiated, maxConnectionsPerUser)) {
      this.metrics.clientLimitHit('connections');
      return 'too_many';
    }
    this.userSockets.add(user.id);
    const record = await this.sessions.claim(token, user);
    if (typeof record === 'string') {
      this.userSockets.remove(user.id);
      this.sessions.failed(record);
      return record === 'wrong_user' ? 'wrong_user' : 'unknown';
    }
    const opening = await this.takeOver(token, user, record);
    if (opening === 'unknown') {
      this.userSockets.remove(user.id);
      return 'unknown';
    }
    this.counted.add(opening.connection);
    return opening;
  }

  /**
   * Rebuilds a session recorded elsewhere. The connection joins its groups first, holding live messages, so nothing
   * delivered while the stream is read is missed; live messages the replay already covers are then dropped.
   */
  private async takeOver(
    token: string,
    user: AuthenticatedUser,
    record: Parameters<StatefulSessions['rebuild']>[1],
  ): Promise<(Opening & { kind: 'resumed' }) | 'unknown'> {
    const now = Date.now();
    const { invocationsPerSecond, invocationBurst } = this.policy.limits;
    const connection = new HubConnection(
      record.connectionId,
      user,
      undefined,
      now,
      new InvocationBudget(invocationsPerSecond, invocationBurst, now),
      this.bounds,
    );
    connection.handshakeDone = true;
    // Before anything is held: held messages are framed in the session's protocol.
    connection.codec = hubProtocolNamed(record.p ?? 'json') ?? connection.codec;
    connection.held = [];
    this.registry.add(connection);
    for (const group of groupsAfter(record)) this.registry.join(connection, group);
    const rebuilt = await this.sessions.rebuild(token, record);
    const held = connection.takeHeld();
    // Ended meanwhile: what arrived while the stream was read passed the replay buffer.
    if (!rebuilt.ok || connection.ended) {
      this.registry.remove(connection);
      const reason = rebuilt.ok ? 'overflow' : rebuilt.reason;
      this.sessions.failed(reason);
      this.logger.warn(`Session of ${user.id} not resumed: ${reason}`);
      return 'unknown';
    }
    connection.session = rebuilt.session;
    connection.replayed = { upTo: rebuilt.readUpTo, ids: rebuilt.ids };
    for (const message of held)
      connection.sendMessage(message.frame, now, message.at, message.entry, message.envelopeId);
    this.sessions.adopt(connection);
    return { kind: 'resumed', connection, replayed: rebuilt.replayed };
  }

  private open(
    socket: HubSocket,
    id: string,
    user: AuthenticatedUser,
    token: string | null,
    stateful: boolean,
  ): HubConnection {
    const now = Date.now();
    const { invocationsPerSecond, invocationBurst } = this.policy.limits;
    const connection = new HubConnection(
      id,
      user,
      socket,
      now,
      new InvocationBudget(invocationsPerSecond, invocationBurst, now),
      this.bounds,
    );
    connection.statefulToken = stateful && token ? token : undefined;
    this.sockets.add(connection);
    this.count(connection);
    this.listen(socket, connection, token);
    return connection;
  }

  /**
   * The client of a session came back (stateful reconnect: no handshake, the socket reopened on the same URL).
   * The server speaks first: Sequence with the id of the oldest message not acknowledged, then every such message.
   */
  private resume(
    socket: HubSocket,
    connection: HubConnection,
    user: AuthenticatedUser,
    instance: 'same' | 'other',
    replayed?: number,
  ): void {
    const now = Date.now();
    if (connection.ended) {
      socket.terminate();
      return;
    }
    connection.attach(socket, user, now);
    this.sockets.add(connection);
    // Counted already: here while its socket was gone, or when its resume from elsewhere was admitted.
    this.count(connection);
    this.metrics.connectionOpened(kindOf(connection));
    this.invoker.track(connection);
    this.listen(socket, connection, null);
    const session = connection.session!;
    connection.send(connection.codec.sequence(session.acked + 1), now);
    let resent = 0;
    for (const frame of session.unacked()) {
      connection.send(frame, now);
      resent++;
    }
    this.metrics.sessionResumed(instance, replayed ?? resent);
  }

  private listen(socket: HubSocket, connection: HubConnection, token: string | null): void {
    this.socketOf.set(connection, { socket, token });
    socket.onMessage((data, isBinary) => this.receive(connection, data, isBinary));
    socket.onClose(() => this.socketClosed(connection, socket, token));
  }

  private readonly closedSockets = new WeakSet<HubSocket>();
  private readonly socketOf = new WeakMap<HubConnection, { socket: HubSocket; token: string | null }>();

  /** A connection's socket went (closed, cut, or replaced by the client's resume): runs once per socket. */
  private socketClosed(connection: HubConnection, socket: HubSocket, token: string | null): void {
    if (this.closedSockets.has(socket) || !connection.isSocket(socket)) return;
    this.closedSockets.add(socket);
    {
      this.sockets.delete(connection);
      if (connection.handshakeDone) {
        this.metrics.connectionClosed({ protocol: connection.codec.name, transport: socket.transport });
      }
      if (token) this.negotiated.release(token);
      if (connection.session && !connection.ended) {
        // Gone without a close message: the client reconnects to the same URL, here or on another instance.
        this.invoker.untrack(connection);
        this.sessions.detached(connection, Date.now());
        return;
      }
      this.registry.remove(connection);
      this.invoker.untrack(connection);
      this.release(connection);
      if (connection.session) this.sessions.ended(connection);
    }
  }

  private count(connection: HubConnection): void {
    if (this.counted.has(connection)) return;
    this.counted.add(connection);
    this.userSockets.add(connection.user.id);
  }

  /** The connection is over for good (a session waiting for its socket is not): its user's place is free. */
  private release(connection: HubConnection): void {
    if (this.counted.delete(connection)) this.userSockets.remove(connection.user.id);
  }

  /** A connection passed one of its bounds (see ConnectionBounds): closed, reconnectably, and counted. */
  private overflowed(connection: HubConnection, bound: ConnectionOverflow, bytes: number): void {
    const who = `connection ${connection.id} of ${connection.user.id}`;
    if (bound === 'replay_buffer') {
      this.metrics.clientLimitHit('replay_buffer');
      this.logger.warn(`Closing ${who}: ${bytes} bytes held for a resume, over the replay buffer`);
      this.sessions.overflowed(connection, bytes);
      return;
    }
    this.metrics.slowClientDisconnected();
    this.logger.warn(`Closing ${who}: ${bytes} bytes not read`);
    connection.close(`Connection closed: the client did not read ${bytes} bytes of pending messages.`, true, true);
  }

  /** A frame from the client, on any transport. */
  receive(connection: HubConnection, bytes: Buffer, isBinary: boolean): void {
    this.messages.receive(connection, bytes, isBinary);
  }

  /**
   * Pings idle connections, closes silent ones, those whose token expired and those that never finished the
   * handshake.
   */
  private sweep(): void {
    const now = Date.now();
    const { keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs } = this.options;
    for (const connection of this.sockets) {
      if (!connection.handshakeDone) {
        if (now - connection.openedAt > handshakeTimeoutMs) {
          this.metrics.protocolError('handshake_timeout');
          connection.terminate();
        }
        continue;
      }
      if (this.policy.closeOnTokenExpiry && connection.expiresAt !== undefined && now >= connection.expiresAt) {
        this.metrics.authFailed('expired');
        // Reconnectable: the client negotiates again, with a fresh token from its accessTokenFactory.
        connection.close('The access token expired.', true);
      } else if (now - connection.lastReceivedAt > clientTimeoutMs) {
        connection.close('Server timeout elapsed without receiving a message from the client.');
      } else if (now - connection.lastSentAt >= keepAliveIntervalMs) {
        connection.send(connection.codec.ping, now);
      }
    }
  }
}
