import type { IncomingMessage } from 'node:http';

/**
 * The access token of a request: `Authorization: Bearer <t>` (Node clients, negotiate from browsers) or the
 * `access_token` query parameter (browsers cannot set headers on a WebSocket).
 */
export function requestToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match) return match[1].trim();
  }
  return url.searchParams.get('access_token') ?? undefined;
}
