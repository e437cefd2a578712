import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenVerifier } from '../../auth/access-token-verifier';
import { BodyTooLargeError, readBody } from '../../http/read-body';
import type { HubMetrics } from '../hub.metrics';
import type { ResolvedGatewayOptions } from '../../realtime-gateway-options.interface';
import type { CorsPolicy } from '../cors-policy';
import type { HubConnection } from '../hub-connection';
import type { HubServer } from '../hub.server';
import { authenticate } from '../negotiate.handler';
import type { TransportName } from './hub-socket';
import { LongPollingSocket } from './long-polling-socket';
import { ServerSentEventsSocket } from './server-sent-events-socket';

interface HttpConnection {
  connection: HubConnection;
  socket: ServerSentEventsSocket | LongPollingSocket;
}

const NOT_HERE =
  'No connection with this id on this gateway instance. Server-Sent Events and long polling need every request ' +
  'of a connection to reach the instance that holds it (sticky sessions).';

/**
 * The two HTTP transports on the hub's path (`<hub>?id=<connection token>`): `GET` with `Accept: text/event-stream`
 * opens a Server-Sent Events stream; any other `GET` is a long poll (the first one opens the connection); `POST`
 * carries the client's frames on both; `DELETE` ends the connection. Every request is authenticated as the
 * connection's user. A connection lives on the instance whose `GET` opened it.
 */
export class HttpTransportsHandler {
  private readonly byToken = new Map<string, HttpConnection>();

  constructor(
    private readonly hub: HubServer,
    private readonly verifier: AccessTokenVerifier,
    private readonly cors: CorsPolicy,
    private readonly options: ResolvedGatewayOptions['hub'],
    private readonly metrics: HubMetrics,
  ) {}

  get size(): number {
    return this.byToken.size;
  }

  readonly handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    if (request.method === 'OPTIONS') return this.cors.preflight(request, response);
    if (!this.cors.allows(request)) return this.refuse(request, response, 403, 'origin not allowed');
    this.cors.apply(request, response);
    const token = url.searchParams.get('id');
    if (!token) return this.refuse(request, response, 400, 'the connection id (`id`) is missing');
    switch (request.method) {
      case 'GET':
        if (/\btext\/event-stream\b/.test(request.headers.accept ?? ''))
          return this.openEventStream(request, response, url, token);
        return this.poll(request, response, url, token);
      case 'POST':
        return this.post(request, response, url, token);
      case 'DELETE':
        return this.remove(request, response, url, token);
      default:
        response.setHeader('allow', 'GET, POST, DELETE, OPTIONS');
        return this.refuse(request, response, 405, `${request.method} is not a hub transport request`);
    }
  };

  private async openEventStream(request: IncomingMessage, response: ServerResponse, url: URL, token: string) {
    if (!this.offers('ServerSentEvents')) return this.refuse(request, response, 404, 'ServerSentEvents is not offered');
    if (this.byToken.has(token)) return this.refuse(request, response, 409, 'connection id already in use');
    const admission = await this.hub.admit(request, url, 'ServerSentEvents');
    if (!admission.ok)
      return this.refuse(request, response, admission.status, admission.reason, admission.status !== 401);
    request.resume();
    const socket = new ServerSentEventsSocket(response);
    this.track(token, socket, this.hub.connect(socket, admission));
  }

  private async poll(request: IncomingMessage, response: ServerResponse, url: URL, token: string) {
    request.resume();
    const known = this.byToken.get(token);
    if (known) {
      if (!(known.socket instanceof LongPollingSocket))
        return this.refuse(request, response, 409, 'this connection uses Server-Sent Events');
      if (!(await this.sameUser(request, response, url, known))) return;
      return known.socket.poll(response);
    }
    if (!this.offers('LongPolling')) return this.refuse(request, response, 404, 'LongPolling is not offered');
    const admission = await this.hub.admit(request, url, 'LongPolling');
    if (!admission.ok)
      return this.refuse(request, response, admission.status, admission.reason, admission.status !== 401);
    const socket = new LongPollingSocket(this.options.longPollTimeoutMs);
    this.track(token, socket, this.hub.connect(socket, admission));
    socket.opened(response);
  }

  private async post(request: IncomingMessage, response: ServerResponse, url: URL, token: string) {
    const known = this.byToken.get(token);
    if (!known) return this.refuse(request, response, 404, NOT_HERE);
    if (!(await this.sameUser(request, response, url, known))) return;
    let body: Buffer;
    try {
      // Past the hub's bound the hub closes the client with the reason; far past it the request is refused here.
      body = await readBody(request, this.options.maxMessageBytes * 4);
    } catch (error) {
      if (error instanceof BodyTooLargeError) this.metrics.protocolError('too_large');
      throw error;
    }
    const binary = (request.headers['content-type'] ?? '').startsWith('application/octet-stream');
    known.socket.listeners.received(body, binary);
    response.writeHead(200, { 'content-length': 0 }).end();
  }

  private async remove(request: IncomingMessage, response: ServerResponse, url: URL, token: string) {
    request.resume();
    const known = this.byToken.get(token);
    if (!known) return this.refuse(request, response, 404, NOT_HERE);
    if (!(await this.sameUser(request, response, url, known))) return;
    known.socket.terminate();
    response.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
  }

  private track(token: string, socket: HttpConnection['socket'], connection: HubConnection | undefined): void {
    if (!connection) return socket.terminate();
    this.byToken.set(token, { connection, socket });
    socket.onClose(() => {
      if (this.byToken.get(token)?.socket === socket) this.byToken.delete(token);
    });
  }

  /** Each request carries the user's token again: it must be the connection's user. */
  private async sameUser(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    known: HttpConnection,
  ): Promise<boolean> {
    const user = await authenticate(this.verifier, request, url);
    if (typeof user === 'string') {
      // Counted as an authentication failure, not as a transport refusal.
      this.metrics.authFailed('connect');
      this.refuse(request, response, 401, user, false);
      return false;
    }
    if (user.id !== known.connection.user.id) {
      this.refuse(request, response, 403, 'the token is not the connection user');
      return false;
    }
    return true;
  }

  private offers(transport: TransportName): boolean {
    return this.options.transports.includes(transport);
  }

  private refuse(
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    reason: string,
    counted = true,
  ): void {
    request.resume();
    if (counted) this.metrics.protocolError('transport');
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    response.end(reason);
  }
}
