import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Envelope } from '@realtime-streams/contracts';
import type { DeliveryService } from '../delivery/delivery.service';
import type { InboundEnvelopeReader } from '../delivery/inbound-envelope';
import { BodyTooLargeError, readBody } from '../http/read-body';
import type { RealtimeGatewayMetrics } from '../metrics/realtime-gateway.metrics';
import { sendJson } from '../http/send-json';

/**
 * The legacy path's endpoint: `POST <path>` with a JSON array of envelopes and `Authorization: Bearer <secret>`.
 * The batch is checked as a whole (schema, args depth and size: 400 naming the first bad envelope and field or bound,
 * nothing delivered; the body not JSON or over its limit: 400 / 413), then delivered, and only
 * then answered, so a 2xx means the envelopes reached the sockets. `GET <path>/health` answers the publisher's probe.
 */
export class BridgeReceiverHandler {
  private readonly secretDigest: Buffer;

  constructor(
    secret: string,
    private readonly maxBodyBytes: number,
    private readonly reader: InboundEnvelopeReader,
    private readonly delivery: DeliveryService,
    private readonly metrics: RealtimeGatewayMetrics,
  ) {
    this.secretDigest = digest(secret);
  }

  readonly handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') {
      request.resume();
      return sendJson(response, 405, { error: 'the bridge takes POST' });
    }
    if (!this.authorized(request.headers.authorization)) {
      request.resume();
      return sendJson(response, 401, { error: 'missing or wrong bridge secret' });
    }
    let body: Buffer;
    try {
      body = await readBody(request, this.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        request.resume();
        return sendJson(response, 413, { error: `body over ${this.maxBodyBytes} bytes` });
      }
      throw error;
    }
    let batch: unknown;
    try {
      batch = JSON.parse(body.toString('utf8'));
    } catch {
      return sendJson(response, 400, { error: 'body is not JSON' });
    }
    if (!Array.isArray(batch)) return sendJson(response, 400, { error: 'body must be a JSON array of envelopes' });
    // Schema, depth and size of every envelope first: a batch is delivered whole or not at all.
    const envelopes: Envelope[] = [];
    const argsJsons: string[] = [];
    for (let i = 0; i < batch.length; i++) {
      const checked = this.reader.check(batch[i]);
      if (!checked.ok) {
        this.metrics.invalidEnvelopes.inc({ transport: 'http-bridge', reason: checked.rejection });
        return sendJson(response, 400, { error: `envelope [${i}] ${checked.reason}` });
      }
      envelopes.push(checked.envelope);
      argsJsons.push(checked.argsJson);
    }
    let written = 0;
    this.delivery.batch(envelopes.length, () => {
      for (let i = 0; i < envelopes.length; i++)
        written += this.delivery.deliver(envelopes[i], 'http-bridge', argsJsons[i]);
    });
    sendJson(response, 200, { accepted: envelopes.length, written });
  };

  readonly health = (request: IncomingMessage, response: ServerResponse): void => {
    request.resume();
    sendJson(response, 200, { status: 'ok' });
  };

  /** Compares digests, so the comparison takes the same time whatever the given secret's length. */
  private authorized(header: string | undefined): boolean {
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!match) return false;
    return timingSafeEqual(digest(match[1].trim()), this.secretDigest);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
