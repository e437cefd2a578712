import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { ClientRequestError } from '../errors/client-request.error';
import { sendJson } from './send-json';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void | Promise<void>;

/**
 * Serves the gateway's own paths (negotiate, the hub's WebSocket upgrade, the bridge receiver) on the application's
 * HTTP server, ahead of the framework: requests for those paths never reach Express's body parser (whose 100 kB
 * JSON limit would refuse bridge batches) or the router, and everything else goes on to the framework untouched.
 * This is how socket.io attaches to a server it shares.
 */
export class HttpTakeover {
  private readonly logger = new Logger('RealtimeHttp');
  private readonly routes = new Map<string, RequestHandler>();
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private server?: Server;
  private frameworkListeners: Array<(...args: unknown[]) => void> = [];
  private draining = false;
  private idleSweeper?: NodeJS.Timeout;

  route(path: string, handler: RequestHandler): void {
    this.routes.set(path, handler);
  }

  upgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  attach(server: Server): void {
    this.server = server;
    this.frameworkListeners = server.listeners('request') as Array<(...args: unknown[]) => void>;
    server.removeAllListeners('request');
    server.on('request', this.onRequest);
    server.on('upgrade', this.onUpgrade);
  }

  /**
   * Shutdown has begun: the gateway's paths (negotiate, upgrades, the bridge) answer 503 so clients and publishers
   * go to another instance, every response closes its connection, and idle kept-alive connections are closed as
   * they go idle. Without this, clients retrying on kept-alive connections keep a closing server alive for good
   * and are handed connection ids its replacement does not know.
   */
  drain(): void {
    if (this.draining || !this.server) return;
    this.draining = true;
    this.server.closeIdleConnections();
    this.idleSweeper = setInterval(() => this.server?.closeIdleConnections(), 100);
    this.idleSweeper.unref();
  }

  /**
   * Stops accepting connections (open ones stay), so clients reconnecting during shutdown reach another instance
   * rather than this one's 503: stateful sessions handed over resume there.
   */
  stopListening(): void {
    if (this.server?.listening) this.server.close();
  }

  /** Last step of shutdown: stop listening and cut connections still open after `graceMs`. */
  closeConnections(graceMs: number): void {
    const server = this.server;
    clearInterval(this.idleSweeper);
    if (!server) return;
    if (server.listening) server.close();
    server.closeIdleConnections();
    // Requests still running get a moment to finish; the framework waits for every connection to end.
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  }

  detach(): void {
    const server = this.server;
    if (!server) return;
    server.off('request', this.onRequest);
    server.off('upgrade', this.onUpgrade);
    for (const listener of this.frameworkListeners) server.on('request', listener);
    this.server = undefined;
  }

  private readonly onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    // A request target that is no URL (`GET //[`) is not one of ours; throwing here would crash the process.
    const url = parseTarget(request.url);
    const handler = url ? this.routes.get(url.pathname) : undefined;
    if (this.draining) {
      response.shouldKeepAlive = false;
      if (handler) {
        request.resume();
        response.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1' });
        response.end(JSON.stringify({ error: 'this gateway instance is shutting down; try again' }));
        return;
      }
    }
    if (!handler || !url) {
      for (const listener of this.frameworkListeners) listener.call(this.server, request, response);
      return;
    }
    Promise.resolve()
      .then(() => handler(request, response, url))
      .catch((error: unknown) => this.fail(request, response, url.pathname, error));
  };

  /**
   * A handler threw. What the client caused (a body cut short, too large) is answered 4xx while the connection can
   * still carry an answer and logged at debug; only the rest is a 500 and an error with its stack.
   */
  private fail(request: IncomingMessage, response: ServerResponse, path: string, error: unknown): void {
    const clientError = error instanceof ClientRequestError ? error : undefined;
    // The client hung up mid-request: whatever the handler tripped over then is no server fault.
    const clientGone = request.destroyed && !request.complete;
    if (clientError || clientGone) {
      this.logger.debug(`${request.method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      request.resume();
      if (response.headersSent || !response.socket?.writable) {
        response.destroy();
        return;
      }
      response.shouldKeepAlive = false;
      sendJson(response, clientError?.status ?? 400, { error: clientError?.message ?? 'request cut short' });
      return;
    }
    this.logger.error(`${request.method} ${path} failed`, error as Error);
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'internal error' }));
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = parseTarget(request.url);
    const handler = url ? this.upgrades.get(url.pathname) : undefined;
    if (handler && this.draining) return rejectUpgrade(socket, 503, 'Service Unavailable', 'shutting down');
    if (!handler || !url) {
      // Someone else may serve this upgrade; with nobody else listening, do not leave the socket hanging.
      if (this.server?.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    Promise.resolve()
      .then(() => handler(request, socket, head, url))
      .catch((error: unknown) => {
        this.logger.error(`upgrade ${url.pathname} failed`, error as Error);
        rejectUpgrade(socket, 500, 'Internal Server Error');
      });
  };
}

/** The request target as a URL, or undefined when it is none. */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://gateway.invalid');
  } catch {
    return undefined;
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, body = reason): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
