import { Pool } from 'undici';

/**
 * One gateway instance behind the HTTP bridge: a keep-alive connection pool to it, and whether it answered lately.
 * A lane that failed is skipped by later batches until its health probe passes, so one dead instance costs at most
 * one timeout, not one per batch.
 */
export class HttpBridgeLane {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly healthPath: string;
  private readonly headers: Record<string, string>;
  up = true;
  /** Whether any request or probe has had an answer yet (the first may come before the gateway listens). */
  seen = false;
  lastError?: string;

  constructor(
    readonly url: URL,
    healthUrl: URL,
    secret: string | undefined,
    connections: number,
  ) {
    if (healthUrl.origin !== url.origin) {
      throw new Error(`HTTP bridge health URL ${healthUrl.href} must be on the same origin as ${url.href}`);
    }
    this.pool = new Pool(url.origin, { connections, keepAliveTimeout: 30_000, connect: { timeout: 2000 } });
    this.path = url.pathname + url.search;
    this.healthPath = healthUrl.pathname + healthUrl.search;
    this.headers = { 'content-type': 'application/json' };
    if (secret) this.headers.authorization = `Bearer ${secret}`;
  }

  /** POSTs a JSON array of envelopes; a non-2xx answer is a failure. */
  async post(body: string, timeoutMs: number): Promise<void> {
    const response = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: this.headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // Read the body to the end either way, so the connection goes back to the pool.
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`${this.url.href} answered ${response.statusCode} ${text.slice(0, 200)}`);
    }
  }

  async probe(timeoutMs: number): Promise<void> {
    const response = await this.pool.request({
      path: this.healthPath,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`${this.url.origin}${this.healthPath} answered ${response.statusCode}`);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
