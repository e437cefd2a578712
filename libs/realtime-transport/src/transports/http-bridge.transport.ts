import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { TransportUnavailableError } from '../errors/transport-unavailable.error';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import { HttpBridgeLane } from './http-bridge.lane';
import { type HttpBridgeMetrics, NO_HTTP_BRIDGE_METRICS } from './http-bridge.metrics';
import { BridgeTicket } from './http-bridge.ticket';
import type { RealtimeTransport } from './realtime-transport.interface';

export interface HttpBridgeTransportSettings extends Omit<
  NonNullable<ResolvedRealtimeTransportOptions['httpBridge']>,
  'laneQueueEnvelopes' | 'laneRetryMs'
> {
  /** Time one POST may take, and a `publish()` may wait for the first acknowledgement. */
  timeoutMs: number;
  /** Largest request body; a longer lane queue goes out in several POSTs, in order. */
  maxBodyBytes: number;
  /** Envelopes queued per instance at most. @default 10000 */
  laneQueueEnvelopes?: number;
  /** Time an envelope may wait for one instance before it is dropped for it. @default 30000 */
  laneRetryMs?: number;
  /** Time one health probe of an instance may take. @default 500 */
  probeTimeoutMs?: number;
  /** Interval of a down instance's recovery probe. @default 1000 */
  probeIntervalMs?: number;
  /** Time `close()` waits for the lanes to deliver what they hold. @default 5000 */
  closeTimeoutMs?: number;
}

/**
 * The legacy path: POSTs batches of envelopes, as JSON arrays, to every gateway instance (each holds different
 * sockets, so each needs every event). Every instance has a lane of its own, with its own queue, in-flight request
 * and timeout (see `HttpBridgeLane`): a batch is queued on every lane and `publish()` resolves as soon as one
 * instance acknowledged it, while the others catch up on their own. A slow or paused instance thus delays only its
 * own clients, and gets what it missed (same ids) once its probe passes, within the lane's bounds.
 */
export class HttpBridgeTransport implements RealtimeTransport {
  readonly name = 'http-bridge' as const;
  readonly lanes: readonly HttpBridgeLane[];
  private readonly timeoutMs: number;
  private readonly closeTimeoutMs: number;
  private closed = false;

  constructor(settings: HttpBridgeTransportSettings, metrics: HttpBridgeMetrics = NO_HTTP_BRIDGE_METRICS) {
    this.timeoutMs = settings.timeoutMs;
    this.closeTimeoutMs = settings.closeTimeoutMs ?? 5000;
    const laneSettings = {
      secret: settings.secret,
      connections: settings.connectionsPerInstance,
      timeoutMs: settings.timeoutMs,
      probeTimeoutMs: settings.probeTimeoutMs ?? 500,
      probeIntervalMs: settings.probeIntervalMs ?? 1000,
      maxBodyBytes: settings.maxBodyBytes,
      queueEnvelopes: settings.laneQueueEnvelopes ?? 10_000,
      retryMs: settings.laneRetryMs ?? 30_000,
    };
    this.lanes = settings.urls.map((url, i) => {
      const parsed = new URL(url);
      return new HttpBridgeLane(parsed, new URL(settings.healthUrls[i]), laneSettings, metrics.lane(parsed.href));
    });
  }

  async start(): Promise<void> {
    // Pools connect on first use.
  }

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    if (this.closed) throw new TransportUnavailableError(this.name, 'the transport is closed');
    if (batch.length === 0) return;
    const up = this.lanes.filter((lane) => lane.up);
    // Fail fast, so the chain falls back or buffers at once; a lane's own probe brings it back.
    if (up.length === 0)
      throw new TransportDisconnectedError(this.name, `every gateway instance is down (${this.errors()})`);
    const ticket = new BridgeTicket<HttpBridgeLane>(up, this.timeoutMs, (rejected) => {
      for (const lane of this.lanes) lane.withdraw(rejected);
    });
    const now = Date.now();
    // Down lanes queue the batch too: they get it once their probe passes, unless another instance never took it
    // (then the ticket is rejected and withdrawn everywhere; the chain sends it again).
    for (const lane of this.lanes) {
      lane.enqueue(batch, ticket, now);
      if (ticket.rejected) break;
    }
    return ticket.promise;
  }

  /** Probes every instance; resolves as soon as one answers, rejects when none does. */
  async health(): Promise<void> {
    if (this.lanes.length === 0) throw new TransportUnavailableError(this.name, 'no gateway instance configured');
    const checks = this.lanes.map((lane) => lane.check());
    const healthy = await new Promise<boolean>((resolve) => {
      let pending = checks.length;
      for (const check of checks) {
        void check.then((ok) => {
          if (ok) resolve(true);
          else if (--pending === 0) resolve(false);
        });
      }
    });
    if (!healthy) throw new TransportUnavailableError(this.name, this.errors());
  }

  /** Gives the lanes up to the close timeout to deliver what they hold, then drops the rest (counted). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.closeTimeoutMs)));
    await Promise.race([Promise.all(this.lanes.map((lane) => lane.whenDrained())), deadline]);
    clearTimeout(timer);
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }

  private errors(): string {
    return this.lanes.map((lane) => `${lane.url.href}: ${lane.lastError ?? 'no answer yet'}`).join('; ');
  }
}
