import type { ServerResponse } from 'node:http';

/** Answers with a JSON body (never cached: answers carry tokens and live state). */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
