import { Logger } from '@nestjs/common';
import type { OutboundEnvelope } from '../envelope/envelope.interface';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportUnavailableError } from '../errors/transport-unavailable.error';
import type { HttpBridgeOptions } from '../realtime-transport-options.interface';
import { errorMessage } from '../util/error-message';
import { HttpBridgeLane } from './http-bridge.lane';
import type { RealtimeTransport } from './realtime-transport.interface';

export interface HttpBridgeTransportSettings extends Required<HttpBridgeOptions> {
  /** Time one POST may take. */
  timeoutMs: number;
  /** Largest request body; a bigger batch is split into several POSTs, sent in order. */
  maxBodyBytes: number;
}

/**
 * The legacy path: POSTs batches of envelopes, as a JSON array, to every gateway instance (each holds different
 * sockets, so each needs every event). Instances are written in parallel and a batch counts as delivered when at
 * least one took it: a failing instance does not hold back the others. Its failure is logged and it sits out until
 * its health probe passes; its clients reconnect elsewhere and fetch what they missed.
 */
export class HttpBridgeTransport implements RealtimeTransport {
  readonly name = 'http-bridge' as const;
  private readonly logger = new Logger('HttpBridgeTransport');
  readonly lanes: readonly HttpBridgeLane[];

  constructor(private readonly settings: HttpBridgeTransportSettings) {
    this.lanes = settings.urls.map(
      (url, i) => new HttpBridgeLane(new URL(url), new URL(settings.healthUrls[i]), settings.secret, settings.connectionsPerInstance),
    );
  }

  async start(): Promise<void> {
    // Pools connect on first use.
  }

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    for (const body of this.bodies(batch)) await this.postToEveryLane(body);
  }

  async health(): Promise<void> {
    const results = await Promise.allSettled(this.lanes.map((lane) => lane.probe(this.settings.timeoutMs)));
    results.forEach((result, i) => this.mark(this.lanes[i], result.status === 'fulfilled' ? undefined : result.reason));
    if (!this.lanes.some((lane) => lane.up)) {
      throw new TransportUnavailableError(this.name, this.lanes.map((lane) => lane.lastError).join('; '));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.lanes.map((lane) => lane.close()));
  }

  private async postToEveryLane(body: string): Promise<void> {
    const upLanes = this.lanes.filter((lane) => lane.up);
    // With every instance marked down, try them all: the marks may be stale.
    const lanes = upLanes.length > 0 ? upLanes : this.lanes;
    const results = await Promise.allSettled(lanes.map((lane) => lane.post(body, this.settings.timeoutMs)));
    let delivered = 0;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') delivered++;
      this.mark(lanes[i], result.status === 'fulfilled' ? undefined : result.reason);
    });
    if (delivered === 0) {
      const reasons = results.map((result) => (result.status === 'rejected' ? errorMessage(result.reason) : ''));
      throw new TransportPublishError(this.name, reasons.join('; '));
    }
  }

  private mark(lane: HttpBridgeLane, error: unknown): void {
    const first = !lane.seen;
    lane.seen = true;
    if (error === undefined) {
      if (!lane.up) this.logger.log(`${lane.url.href} is back`);
      lane.up = true;
      lane.lastError = undefined;
      return;
    }
    lane.lastError = errorMessage(error);
    const message = `${lane.url.href} failed: ${lane.lastError}; skipping it until its health probe passes`;
    // A gateway in this very process answers only once the HTTP server listens, after the first probe.
    if (first) this.logger.debug(message);
    else if (lane.up) this.logger.warn(message);
    lane.up = false;
  }

  /** The batch as JSON arrays no bigger than `maxBodyBytes` (one envelope always fits: args are capped). */
  private *bodies(batch: readonly OutboundEnvelope[]): Generator<string> {
    let parts: string[] = [];
    let size = 2;
    for (const outbound of batch) {
      const length = outbound.json.length * 3;
      if (parts.length > 0 && size + length + 1 > this.settings.maxBodyBytes) {
        yield '[' + parts.join(',') + ']';
        parts = [];
        size = 2;
      }
      parts.push(outbound.json);
      size += length + 1;
    }
    if (parts.length > 0) yield '[' + parts.join(',') + ']';
  }
}
