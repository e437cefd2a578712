import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime/transport';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { AccessTokenVerifier, AuthenticatedUser } from '../auth/access-token-verifier';
import { HubMethodError } from '../errors/hub-method.error';
import { rejectUpgrade } from '../http/http-takeover';
import type { RealtimeGatewayMetrics } from '../metrics/realtime-gateway.metrics';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import type { ConnectionRegistry } from './connection-registry';
import type { CorsPolicy } from './cors-policy';
import { HubConnection } from './hub-connection';
import type { HubInvoker } from './hub-invoker';
import {
  asHubMessage,
  completionFrame,
  HANDSHAKE_OK,
  handshakeError,
  type HubMessage,
  HubProtocolError,
  MessageType,
  parseRecords,
  PING_FRAME,
} from './hub-protocol';
import { InvocationBudget } from './invocation-budget';
import { authenticate, mayConnect, tooManyConnections } from './negotiate.handler';
import type { NegotiatedConnections } from './negotiated-connections';
import type { UserConnectionCounter } from './user-connection-counter';

/** What the hub enforces per client, besides the protocol. */
export type ClientPolicy = Pick<ResolvedGatewayOptions, 'limits' | 'closeOnTokenExpiry'>;

/**
 * The hub's WebSocket side: upgrade (with the negotiated id, or none under `skipNegotiation`), the handshake, the
 * client's messages, keep-alive pings and timeouts. A client that breaks the protocol is closed with the reason;
 * nothing a client sends can throw out of here.
 */
export class HubServer {
  private readonly logger = new Logger('RealtimeHub');
  private readonly wss: WebSocketServer;
  /** Every socket, handshake done or not (the registry only holds the ready ones). */
  private readonly sockets = new Set<HubConnection>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly options: ResolvedGatewayOptions['hub'],
    private readonly verifier: AccessTokenVerifier,
    private readonly negotiated: NegotiatedConnections,
    private readonly cors: CorsPolicy,
    private readonly registry: ConnectionRegistry,
    private readonly invoker: HubInvoker,
    private readonly metrics: RealtimeGatewayMetrics,
    private readonly policy: ClientPolicy,
    private readonly userSockets: UserConnectionCounter,
  ) {
    // ws refuses far bigger frames itself (close 1009); between the two bounds the client gets a proper close message.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes * 4, perMessageDeflate: false });
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
    let closed = 0;
    for (const connection of [...this.sockets]) {
      if (!connection.handshakeDone || !connection.isOpen) continue;
      connection.close(reason, true);
      closed++;
    }
    return closed;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  readonly handleUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> => {
    if (!this.cors.allows(request)) return rejectUpgrade(socket, 403, 'Forbidden', 'origin not allowed');
    const user = await authenticate(this.verifier, request, url);
    if (typeof user === 'string') {
      this.metrics.authFailures.inc({ reason: 'connect' });
      return rejectUpgrade(socket, 401, 'Unauthorized', user);
    }
    const token = url.searchParams.get('id');
    let connectionId: string;
    if (token) {
      const claim = this.negotiated.claim(token);
      if (claim === 'unknown') return rejectUpgrade(socket, 404, 'Not Found', 'unknown connection id');
      if (claim === 'taken') return rejectUpgrade(socket, 409, 'Conflict', 'connection id already in use');
      if (claim.user.id !== user.id) {
        this.negotiated.release(token);
        return rejectUpgrade(socket, 401, 'Unauthorized', 'token does not match the negotiated user');
      }
      connectionId = claim.connectionId;
    } else {
      // A negotiated token was counted when it was handed out; a connection without one is counted here.
      const { maxConnectionsPerUser } = this.policy.limits;
      if (!mayConnect(user.id, this.userSockets, this.negotiated, maxConnectionsPerUser)) {
        this.metrics.clientLimitHits.inc({ limit: 'connections' });
        return rejectUpgrade(socket, 429, 'Too Many Requests', tooManyConnections(maxConnectionsPerUser));
      }
      connectionId = randomBytes(12).toString('base64url');
    }
    // ws completes the upgrade synchronously (no verifyClient), so the check above and the count in open() cannot
    // interleave with another upgrade of the same user.
    this.wss.handleUpgrade(request, socket, head, (ws) => this.open(ws, connectionId, user, token));
  };

  private open(ws: WebSocket, id: string, user: AuthenticatedUser, token: string | null): void {
    const now = Date.now();
    const { invocationsPerSecond, invocationBurst } = this.policy.limits;
    const connection = new HubConnection(id, user, ws, now, new InvocationBudget(invocationsPerSecond, invocationBurst, now));
    this.sockets.add(connection);
    this.userSockets.add(user.id);
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('error', (error: Error & { code?: string }) => {
      // ws closes the socket itself (1009) for frames past its own bound.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.metrics.clientProtocolErrors.inc({ reason: 'too_large' });
      this.logger.debug(`socket ${id}: ${error.message}`);
    });
    ws.on('close', () => {
      this.sockets.delete(connection);
      this.userSockets.remove(user.id);
      if (connection.handshakeDone) this.metrics.connections.dec();
      this.registry.remove(connection);
      this.invoker.untrack(connection);
      if (token) this.negotiated.release(token);
    });
  }

  private onMessage(connection: HubConnection, data: RawData, isBinary: boolean): void {
    connection.lastReceivedAt = Date.now();
    try {
      if (isBinary) throw new HubProtocolError('Binary messages are not supported by the JSON protocol');
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (bytes.length > this.options.maxMessageBytes) {
        throw new HubProtocolError(`Message of ${bytes.length} bytes is over the limit of ${this.options.maxMessageBytes}`);
      }
      const records = parseRecords(bytes.toString('utf8'));
      let start = 0;
      if (!connection.handshakeDone) {
        if (!this.handshake(connection, records[0])) return;
        start = 1;
      }
      for (let i = start; i < records.length; i++) {
        // A record may close the connection (a close message, a limit): the rest of the frame is not served.
        if (!connection.isOpen) return;
        this.onHubMessage(connection, asHubMessage(records[i]));
      }
    } catch (error) {
      this.protocolError(connection, error);
    }
  }

  private handshake(connection: HubConnection, record: unknown): boolean {
    const { protocol, version } = (record ?? {}) as { protocol?: unknown; version?: unknown };
    let problem: string | undefined;
    if (typeof protocol !== 'string' || typeof version !== 'number') problem = 'Invalid handshake request.';
    else if (protocol !== 'json') problem = `The protocol '${protocol}' is not supported.`;
    else if (version !== 1) problem = `The server does not support version ${version} of the 'json' protocol.`;
    if (problem) {
      this.metrics.clientProtocolErrors.inc({ reason: 'handshake' });
      connection.send(handshakeError(problem), Date.now());
      connection.close();
      return false;
    }
    // `{}` must be the very first thing the client receives: nothing is sent to a socket before this.
    connection.send(HANDSHAKE_OK, Date.now());
    connection.handshakeDone = true;
    this.registry.add(connection);
    this.invoker.track(connection);
    this.metrics.connections.inc();
    return true;
  }

  private onHubMessage(connection: HubConnection, message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation:
        return this.onInvocation(connection, message);
      case MessageType.StreamInvocation:
        return this.complete(connection, message.invocationId, { error: 'Streaming hub methods are not supported.' });
      case MessageType.Ping:
      case MessageType.CancelInvocation:
      case MessageType.Ack:
      case MessageType.Sequence:
      case MessageType.StreamItem:
      case MessageType.Completion:
        return;
      case MessageType.Close:
        connection.close();
        return;
      default:
        throw new HubProtocolError(`Unknown message type ${message.type}`);
    }
  }

  private onInvocation(connection: HubConnection, message: HubMessage): void {
    const { target, invocationId } = message;
    const args = message.arguments ?? [];
    if (typeof target !== 'string' || !Array.isArray(args)) {
      throw new HubProtocolError('An invocation needs a string target and an array of arguments');
    }
    if (invocationId !== undefined && typeof invocationId !== 'string') {
      throw new HubProtocolError('invocationId must be a string');
    }
    if (!connection.invocations.take(Date.now())) return this.refuseInvocation(connection, invocationId);
    if (Array.isArray(message.streamIds) && message.streamIds.length > 0) {
      return this.complete(connection, invocationId, { error: 'Client-to-server streaming is not supported.' });
    }
    this.invoker.invoke(connection, target, args).then(
      (result) => this.complete(connection, invocationId, { result }),
      (error: unknown) =>
        this.complete(connection, invocationId, {
          error: error instanceof HubMethodError ? error.message : 'An unexpected error occurred on the server.',
        }),
    );
  }

  /** Over the rate: a completion error, or the connection closed when the client keeps calling regardless. */
  private refuseInvocation(connection: HubConnection, invocationId: unknown): void {
    const { invocationsPerSecond, maxRefusedInvocations } = this.policy.limits;
    if (connection.invocations.refusedInARow >= maxRefusedInvocations) {
      this.metrics.clientLimitHits.inc({ limit: 'invocations_close' });
      this.logger.warn(`Closing connection ${connection.id} of ${connection.user.id}: kept invoking past its limit`);
      connection.close(`Connection closed: more than ${invocationsPerSecond} invocations per second, sustained.`, false);
      return;
    }
    this.metrics.clientLimitHits.inc({ limit: 'invocations' });
    this.complete(connection, invocationId, {
      error: `Too many invocations: at most ${invocationsPerSecond} per second. Try again later.`,
    });
  }

  /** Answers an `invoke`; a `send` (no invocation id) gets no answer. */
  private complete(connection: HubConnection, invocationId: unknown, outcome: { result: unknown } | { error: string }): void {
    if (typeof invocationId !== 'string') return;
    let frame: string;
    try {
      frame = completionFrame(invocationId, outcome);
    } catch (error) {
      frame = completionFrame(invocationId, { error: `The result could not be serialized: ${errorMessage(error)}` });
    }
    connection.send(frame, Date.now());
  }

  private protocolError(connection: HubConnection, error: unknown): void {
    const known = error instanceof HubProtocolError;
    if (!known) this.logger.error(`Connection ${connection.id} failed`, error as Error);
    const message = known ? error.message : 'An unexpected error occurred on the server.';
    this.metrics.clientProtocolErrors.inc({ reason: known ? reasonOf(message) : 'internal' });
    if (!connection.handshakeDone) {
      connection.send(handshakeError(message), Date.now());
      connection.close();
      return;
    }
    connection.close(`Connection closed with an error: ${message}`, false);
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
          this.metrics.clientProtocolErrors.inc({ reason: 'handshake_timeout' });
          connection.terminate();
        }
        continue;
      }
      if (this.policy.closeOnTokenExpiry && connection.expiresAt !== undefined && now >= connection.expiresAt) {
        this.metrics.authFailures.inc({ reason: 'expired' });
        // Reconnectable: the client negotiates again, with a fresh token from its accessTokenFactory.
        connection.close('The access token expired.', true);
      } else if (now - connection.lastReceivedAt > clientTimeoutMs) {
        connection.close('Server timeout elapsed without receiving a message from the client.');
      } else if (now - connection.lastSentAt >= keepAliveIntervalMs) {
        connection.send(PING_FRAME, now);
      }
    }
  }
}

function reasonOf(message: string): string {
  if (message.startsWith('Message is incomplete')) return 'incomplete';
  if (message.startsWith('Invalid JSON')) return 'bad_json';
  if (message.startsWith('Binary')) return 'binary';
  if (message.includes('over the limit')) return 'too_large';
  return 'bad_message';
}
