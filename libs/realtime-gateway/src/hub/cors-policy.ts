import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for browsers on another origin. SignalR sends credentials, so the origin is echoed (never `*`) with
 * `Access-Control-Allow-Credentials: true`, and the client's own headers are allowed.
 */
export class CorsPolicy {
  constructor(private readonly allowed: readonly string[] | '*') {}

  /** Whether a request from `origin` may proceed (no Origin, or the same host, always may). */
  allows(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (!origin || this.allowed === '*' || this.allowed.includes(origin)) return true;
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }

  /** Adds the CORS headers to a response for an allowed cross-origin request. */
  apply(request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    if (!origin || !this.allows(request)) return;
    response.setHeader('Access-Control-Allow-Origin', origin);
    response.setHeader('Access-Control-Allow-Credentials', 'true');
    response.setHeader('Vary', 'Origin');
  }

  /** Answers a preflight. */
  preflight(request: IncomingMessage, response: ServerResponse): void {
    if (!this.allows(request)) {
      response.writeHead(403).end();
      return;
    }
    this.apply(request, response);
    response.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    response.setHeader(
      'Access-Control-Allow-Headers',
      'Authorization, Content-Type, X-Requested-With, X-SignalR-User-Agent',
    );
    response.setHeader('Access-Control-Max-Age', '600');
    response.writeHead(204).end();
  }
}
