import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenVerifier, AuthenticatedUser } from '../auth/access-token-verifier';
import { requestToken } from '../auth/request-token';
import { errorMessage } from '@realtime-streams/common';
import type { CorsPolicy } from './cors-policy';
import type { HubMetrics } from './hub.metrics';
import type { NegotiatedConnections } from './negotiated-connections';
import { sendJson } from '../http/send-json';
import type { UserConnectionCounter } from './user-connection-counter';
import type { StatefulSessions } from './session/stateful-sessions';
import type { TransportName } from './transports/hub-socket';

/** What each transport carries: the client picks the first listed that suits its protocol (MessagePack: Binary). */
const TRANSFER_FORMATS: Record<TransportName, string[]> = {
  WebSockets: ['Text', 'Binary'],
  ServerSentEvents: ['Text'],
  LongPolling: ['Text', 'Binary'],
};

/**
 * `POST <hub>/negotiate`: authenticates the caller and hands out a connection token, with the transports of
 * `hub.transports` (the client tries them in the order listed). Stateful reconnect is granted only to a client that
 * asked (`useStatefulReconnect=true`): the client fails when the server turns on what it did not ask for. With Redis
 * the token is also recorded there, so the WebSocket may reach any instance.
 */
export class NegotiateHandler {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly negotiated: NegotiatedConnections,
    private readonly cors: CorsPolicy,
    private readonly openSockets: UserConnectionCounter,
    private readonly maxConnectionsPerUser: number,
    private readonly metrics: HubMetrics,
    private readonly sessions: StatefulSessions,
    private readonly ttlMs: number,
    transports: readonly TransportName[],
  ) {
    this.availableTransports = transports.map((transport) => ({
      transport,
      transferFormats: TRANSFER_FORMATS[transport],
    }));
  }

  private readonly availableTransports: Array<{ transport: TransportName; transferFormats: string[] }>;

  readonly handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    if (request.method === 'OPTIONS') return this.cors.preflight(request, response);
    request.resume();
    if (request.method !== 'POST') return sendJson(response, 405, { error: 'negotiate takes POST' });
    if (!this.cors.allows(request)) return sendJson(response, 403, { error: 'origin not allowed' });
    this.cors.apply(request, response);
    const user = await authenticate(this.verifier, request, url);
    if (typeof user === 'string') {
      this.metrics.authFailed('negotiate');
      return sendJson(response, 401, { error: user });
    }
    if (!mayConnect(user.id, this.openSockets, this.negotiated, this.maxConnectionsPerUser)) {
      this.metrics.clientLimitHit('connections');
      return sendJson(response, 429, { error: tooManyConnections(this.maxConnectionsPerUser) });
    }
    const version1 = Number(url.searchParams.get('negotiateVersion') ?? '0') >= 1;
    const stateful = version1 && this.sessions.enabled && url.searchParams.get('useStatefulReconnect') === 'true';
    const { connectionToken, connectionId } = this.negotiated.create(user, stateful);
    this.sessions.negotiated(connectionToken, { connectionId, userId: user.id, stateful }, this.ttlMs);
    if (version1) {
      return sendJson(response, 200, {
        negotiateVersion: 1,
        connectionId,
        connectionToken,
        availableTransports: this.availableTransports,
        ...(stateful ? { useStatefulReconnect: true } : {}),
      });
    }
    // Negotiate version 0 clients use the connection id as the token.
    return sendJson(response, 200, {
      negotiateVersion: 0,
      connectionId: connectionToken,
      availableTransports: this.availableTransports,
    });
  };
}

/** The request's user, or why it has none. */
export async function authenticate(
  verifier: AccessTokenVerifier,
  request: IncomingMessage,
  url: URL,
): Promise<AuthenticatedUser | string> {
  const token = requestToken(request, url);
  if (!token) return 'missing access token';
  try {
    return await verifier.verify(token);
  } catch (error) {
    return `invalid access token: ${errorMessage(error)}`;
  }
}

/** Whether a user may open one more connection: open sockets plus tokens negotiated and not connected yet. */
export function mayConnect(
  userId: string,
  openSockets: UserConnectionCounter,
  negotiated: NegotiatedConnections,
  max: number,
): boolean {
  return openSockets.of(userId) + negotiated.waitingFor(userId) < max;
}

export function tooManyConnections(max: number): string {
  return `Too many connections for this user: at most ${max} at once.`;
}
