import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Envelope, RealtimeTarget } from '@realtime-streams/transport';

/**
 * A minimal stand-in for a gateway's HTTP bridge endpoint: records the envelopes it is sent, checks the bearer
 * secret, and can be told to fail or to answer health probes as down.
 */
export class BridgeReceiver {
  readonly envelopes: Envelope[] = [];
  /** Targets of the envelopes a lane reported it gave up for this instance, one list per report. */
  readonly gaveUp: RealtimeTarget[][] = [];
  /** Envelope ids and reports (`gaveUp <targets as JSON>`) in arrival order. */
  readonly arrivals: string[] = [];
  /** Answer a body that is not an array 400, as a gateway older than the report does. */
  legacyOnly = false;
  requests = 0;
  failWith?: number;
  /** Accept requests and never answer them (a hung instance). */
  hang = false;
  healthy = true;
  readonly bodySizes: number[] = [];
  private server?: Server;

  constructor(private readonly secret?: string) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/internal/realtime/events`;
  }

  ids(): string[] {
    return this.envelopes.map((e) => e.id);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'GET' && req.url?.endsWith('/health')) {
      res.writeHead(this.healthy ? 200 : 503).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    if (this.secret && req.headers.authorization !== `Bearer ${this.secret}`) {
      res.writeHead(401).end('bad secret');
      return;
    }
    this.requests++;
    if (this.hang) return;
    this.bodySizes.push(Buffer.concat(chunks).length);
    if (this.failWith) {
      res.writeHead(this.failWith).end('failing on purpose');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as
      Envelope[] | { envelopes: Envelope[]; gaveUp?: RealtimeTarget[] };
    if (!Array.isArray(body) && this.legacyOnly) {
      res.writeHead(400).end('{"error":"body must be a JSON array of envelopes"}');
      return;
    }
    const envelopes = Array.isArray(body) ? body : body.envelopes;
    const gaveUp = Array.isArray(body) ? undefined : body.gaveUp;
    if (gaveUp) {
      this.gaveUp.push(gaveUp);
      this.arrivals.push(`gaveUp ${JSON.stringify(gaveUp)}`);
    }
    this.envelopes.push(...envelopes);
    this.arrivals.push(...envelopes.map((e) => e.id));
    res.writeHead(204).end();
  }
}
