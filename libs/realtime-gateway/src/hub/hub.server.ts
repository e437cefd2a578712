import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { WebSocketServer } from 'ws';
import type { RealtimeTarget } from '@realtime-streams/contracts';
import type { AuthenticatedUser } from '../auth/access-token-verifier';
import { rejectUpgrade } from '../http/http-takeover';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import type { ConnectionRegistry } from './connection-registry';
import type { CorsPolicy } from './cors-policy';
import type { HubConnection } from './hub-connection';
import type { HubConnections } from './hub-connections';
import type { HubMessages } from './hub-messages';
import type { HubMetrics } from './hub.metrics';
import { authenticate, tooManyConnections } from './negotiate.handler';
import type { NegotiatedConnections } from './negotiated-connections';
import { hubProtocolNamed } from './protocols/hub-protocols';
import { groupsAfter } from './session/session-replay';
import type { StatefulSessions } from './session/stateful-sessions';
import type { HubSocket, TransportName } from './transports/hub-socket';
import { WebSocketHubSocket } from './transports/websocket-hub-socket';

/** How the upgrade of a connection token resolved: a new connection, or a session to resume. */
type Opening =
  | { kind: 'new'; connectionId: string; stateful: boolean }
  | { kind: 'resume-here'; connection: HubConnection }
  | { kind: 'resumed'; connection: HubConnection; replayed: number };

/** A request allowed to open (or resume) a connection, or why not (an HTTP status, its text and a reason). */
export type Admission =
  | { ok: true; user: AuthenticatedUser; token: string | null; opening: Opening }
  | { ok: false; status: number; text: string; reason: string };

/** What the hub server needs of the gateway's options. */
export type HubServerOptions = Pick<ResolvedGatewayOptions, 'hub' | 'verifier' | 'limits' | 'closeOnTokenExpiry'>;

/** Why a connection token opens nothing, as the HTTP answer says it. */
const REFUSED_TOKENS = {
  unknown: { status: 404, text: 'Not Found', reason: 'unknown connection id' },
  taken: { status: 409, text: 'Conflict', reason: 'connection id already in use' },
  wrong_user: { status: 401, text: 'Unauthorized', reason: 'token does not match the negotiated user' },
  too_many: { status: 429, text: 'Too Many Requests', reason: 'too many connections for this user' },
} as const;
type RefusedToken = keyof typeof REFUSED_TOKENS;

/**
 * The hub's front door: admission on any transport (the WebSocket upgrade here, the HTTP transports through
 * `admit` and `connect`), with the negotiated id or none under `skipNegotiation`, and what a connection token
 * names; keep-alive pings, timeouts and token expiry; shutdown. A connection's life (its states and indexes) is
 * HubConnections'; what its client sends is HubMessages'.
 */
export class HubServer {
  private readonly logger = new Logger('RealtimeHub');
  private readonly wss: WebSocketServer;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly options: HubServerOptions,
    private readonly negotiated: NegotiatedConnections,
    private readonly cors: CorsPolicy,
    private readonly connections: HubConnections,
    private readonly registry: ConnectionRegistry,
    private readonly sessions: StatefulSessions,
    private readonly messages: HubMessages,
    private readonly metrics: HubMetrics,
  ) {
    // ws refuses far bigger frames itself (close 1009); between the two bounds the client gets a proper close message.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.hub.maxMessageBytes * 4,
      perMessageDeflate: false,
    });
  }

  start(): void {
    const every = Math.min(Math.max(Math.floor(this.options.hub.keepAliveIntervalMs / 3), 50), 5000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /**
   * Closes every connection with a reason clients may reconnect on, giving them `graceMs` to complete the close
   * handshake; the rest are cut.
   */
  async stop(reason = 'Server is shutting down.', graceMs = 1000): Promise<void> {
    clearInterval(this.sweeper);
    await this.connections.closeEverySocket(reason, graceMs);
    this.wss.close();
  }

  /**
   * Closes every connection past the handshake with a close message the client reconnects on (`allowReconnect`),
   * carrying `reason`; returns how many. Used when this instance missed events whose targets it cannot know.
   */
  closeAllConnections(reason: string): number {
    return this.connections.closeForMissed(this.registry.all, reason);
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
    return this.connections.closeForMissed(members, reason);
  }

  get openSockets(): number {
    return this.connections.sockets.size;
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
    const user = await authenticate(this.options.verifier, request, url);
    if (typeof user === 'string') {
      this.metrics.authFailed('connect');
      return { ok: false, status: 401, text: 'Unauthorized', reason: user };
    }
    const token = url.searchParams.get('id');
    if (token) {
      const resolved = await this.resolveToken(token, user, transport === 'WebSockets');
      if (typeof resolved === 'string') return { ok: false, ...REFUSED_TOKENS[resolved] };
      if (resolved.kind === 'new') await this.connections.prepare(targetKeysOfUser(user.id));
      return { ok: true, user, token, opening: resolved };
    }
    if (transport !== 'WebSockets')
      return { ok: false, status: 400, text: 'Bad Request', reason: 'this transport needs a negotiated connection id' };
    // A negotiated token was counted when it was handed out; a connection without one is counted here.
    if (!this.connections.mayConnect(user.id)) {
      this.metrics.clientLimitHit('connections');
      const reason = tooManyConnections(this.options.limits.maxConnectionsPerUser);
      return { ok: false, status: 429, text: 'Too Many Requests', reason };
    }
    // skipNegotiation connections never get stateful reconnect (the client only uses it after negotiate).
    const opening: Opening = { kind: 'new', connectionId: randomBytes(12).toString('base64url'), stateful: false };
    // What a new connection receives from its handshake on: its user's messages and those to everyone.
    await this.connections.prepare(targetKeysOfUser(user.id));
    return { ok: true, user, token, opening };
  }

  /** Opens (or resumes) the connection an admission allowed, on the socket its transport made. */
  connect(socket: HubSocket, admission: Admission & { ok: true }): HubConnection {
    const { opening, user, token } = admission;
    if (opening.kind === 'new') {
      const connection = this.connections.accept(socket, opening.connectionId, user, token, opening.stateful);
      socket.onMessage((data, isBinary) => this.messages.receive(connection, data, isBinary));
      return connection;
    }
    const { connection } = opening;
    socket.onMessage((data, isBinary) => this.messages.receive(connection, data, isBinary));
    if (opening.kind === 'resume-here') this.connections.attach(connection, socket, user, 'same');
    else this.connections.attach(connection, socket, user, 'other', opening.replayed);
    return connection;
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
      if (current.user.id !== user.id) return 'taken';
      this.connections.replaceSocket(current);
    }
    const negotiatedHere = await this.claimNegotiated(token, user);
    if (negotiatedHere !== 'not_here') return negotiatedHere;
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
    return resumable ? this.resumeElsewhere(token, user) : 'unknown';
  }

  /** A token negotiated here: claimed, and its copy in Redis taken too (what makes it single-use everywhere). */
  private async claimNegotiated(token: string, user: AuthenticatedUser): Promise<Opening | RefusedToken | 'not_here'> {
    const claim = this.negotiated.claim(token);
    if (claim === 'unknown') return 'not_here';
    if (claim === 'taken') return 'taken';
    if (claim.user.id !== user.id) {
      this.negotiated.release(token);
      return 'wrong_user';
    }
    if ((await this.sessions.takeNegotiated(token)) === null) {
      this.negotiated.release(token);
      return 'taken';
    }
    return { kind: 'new', connectionId: claim.connectionId, stateful: claim.stateful };
  }

  /**
   * A session recorded by another instance: claimed in Redis and rebuilt here (see HubConnections.resumeElsewhere).
   * It counts here from now on: checked, and the place taken before anything is awaited.
   */
  private async resumeElsewhere(token: string, user: AuthenticatedUser): Promise<Opening | RefusedToken> {
    if (!this.connections.mayConnect(user.id)) {
      this.metrics.clientLimitHit('connections');
      return 'too_many';
    }
    this.connections.reserve(user.id);
    const record = await this.sessions.claim(token, user);
    if (typeof record === 'string') {
      this.connections.unreserve(user.id);
      this.sessions.failed(record);
      return record === 'wrong_user' ? 'wrong_user' : 'unknown';
    }
    const codec = hubProtocolNamed(record.p ?? 'json') ?? hubProtocolNamed('json')!;
    const resumed = await this.connections.resumeElsewhere(token, user, record, groupsAfter(record), codec);
    if (typeof resumed === 'string') {
      this.sessions.failed(resumed);
      return 'unknown';
    }
    return { kind: 'resumed', ...resumed };
  }

  /**
   * Pings idle connections, closes silent ones, those whose token expired and those that never finished the
   * handshake.
   */
  private sweep(): void {
    const now = Date.now();
    const { keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs } = this.options.hub;
    for (const connection of this.connections.sockets) {
      if (connection.state === 'connecting') {
        if (now - connection.openedAt > handshakeTimeoutMs) {
          this.metrics.protocolError('handshake_timeout');
          connection.terminate();
        }
        continue;
      }
      if (connection.state !== 'open') continue;
      if (this.options.closeOnTokenExpiry && connection.expiresAt !== undefined && now >= connection.expiresAt) {
        this.metrics.authFailed('expired');
        // Reconnectable: the client negotiates again, with a fresh token from its accessTokenFactory.
        connection.close('The access token expired.');
      } else if (now - connection.lastReceivedAt > clientTimeoutMs) {
        connection.close('Server timeout elapsed without receiving a message from the client.');
      } else if (now - connection.lastSentAt >= keepAliveIntervalMs) {
        connection.send(connection.codec.ping, now);
      }
    }
  }
}

/** The routing keys a connection of `userId` receives from its handshake on, before it joins any group. */
function targetKeysOfUser(userId: string): string[] {
  return ['all', `user:${userId}`];
}
