import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { Envelope, RealtimeTarget } from '@realtime-streams/contracts';
import type { DeliveryService } from '../delivery/delivery.service';
import type { InboundEnvelopeReader } from '../delivery/inbound-envelope';
import { BodyTooLargeError, readBody } from '../http/read-body';
import type { BridgeReceiverMetrics } from './bridge-receiver.metrics';
import { sendJson } from '../http/send-json';
import { MISSED_ENTRIES_REASON } from '../stream/gap-reporter';
import { parseBridgeBody } from './bridge-body';

/** Closes the connections of these targets with a reconnectable close carrying `reason`; returns how many. */
export type GaveUpTargetsCloser = (targets: readonly RealtimeTarget[], reason: string) => number;

/**
 * The legacy path's endpoint: `POST <path>` with `Authorization: Bearer <secret>` and a JSON array of envelopes, or
 * `{ "envelopes": [...], "gaveUp": [targets] }` (see `parseBridgeBody`). The body is checked as a whole (its form,
 * then every envelope's schema, args depth and size: 400 naming the first thing wrong, nothing done; over its limit:
 * 413). Then the connections of the `gaveUp` targets are closed with the reconnectable "missed messages" close (the
 * publisher's lane gave envelopes for them up: clients re-fetch from what they last saw, which is before the hole,
 * since the report comes before anything the lane sends after it), then the envelopes are delivered, and only then
 * is the request answered, so a 2xx means both reached the sockets. `GET <path>/health` answers the probe.
 */
export class BridgeReceiverHandler {
  private readonly logger = new Logger('RealtimeBridgeReceiver');
  private readonly secretDigest: Buffer;

  constructor(
    secret: string,
    private readonly maxBodyBytes: number,
    private readonly reader: InboundEnvelopeReader,
    private readonly delivery: DeliveryService,
    private readonly metrics: BridgeReceiverMetrics,
    private readonly closeTargets: GaveUpTargetsCloser,
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
    const parsed = parseBridgeBody(body.toString('utf8'));
    if (!parsed.ok) {
      this.metrics.bodyRefused(parsed.refusal);
      return sendJson(response, 400, { error: parsed.error });
    }
    const batch = parsed.envelopes;
    // Schema, depth and size of every envelope first: a batch is delivered whole or not at all.
    const envelopes: Envelope[] = [];
    const argsJsons: string[] = [];
    for (let i = 0; i < batch.length; i++) {
      const checked = this.reader.check(batch[i]);
      if (!checked.ok) {
        this.metrics.envelopeRefused('http-bridge', checked.rejection);
        return sendJson(response, 400, { error: `envelope [${i}] ${checked.reason}` });
      }
      envelopes.push(checked.envelope);
      argsJsons.push(checked.argsJson);
    }
    const closed = parsed.gaveUp.length > 0 ? this.gaveUp(parsed.gaveUp) : 0;
    let written = 0;
    this.delivery.batch(envelopes.length, () => {
      for (let i = 0; i < envelopes.length; i++)
        written += this.delivery.deliver(envelopes[i], 'http-bridge', argsJsons[i]);
    });
    // `closed` only answers a report: a plain batch gets the answer it always got.
    sendJson(response, 200, { accepted: envelopes.length, written, ...(parsed.gaveUp.length > 0 ? { closed } : {}) });
  };

  /** The publisher gave up envelopes for these targets: their clients are told, as for a stream gap. */
  private gaveUp(targets: readonly RealtimeTarget[]): number {
    const closed = this.closeTargets(targets, MISSED_ENTRIES_REASON);
    // Their order starts again: the hole must not close the clients a second time when its hold runs out.
    this.delivery.forgetOrder(targets);
    this.metrics.gaveUpReported(closed);
    const what = targets.some((target) => target.kind === 'all')
      ? 'every target'
      : `${targets.length} targets (${targets.slice(0, 3).map(describe).join(', ')}${targets.length > 3 ? ', ...' : ''})`;
    this.logger.warn(
      `A publisher's bridge lane gave up envelopes for this instance, for ${what}: closed ${closed} connections so ` +
        'clients re-fetch',
    );
    return closed;
  }

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

function describe(target: RealtimeTarget): string {
  // User ids stay out of the log, as in the delivery's own lines.
  return target.kind === 'group' ? `group ${target.name.slice(0, 60)}` : target.kind === 'user' ? 'a user' : 'all';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
