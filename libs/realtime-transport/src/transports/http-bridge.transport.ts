import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { redactUrl } from '@realtime-streams/common';
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
  /** Envelopes queued per instance at most; past it the oldest are given up for it (and it is told). @default 10000 */
  laneQueueEnvelopes?: number;
  /** Time an envelope may wait for a down instance before it is given up for it (and it is told). @default 30000 */
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
 * own clients, and gets what it missed (same ids) once its probe passes, within the lane's bounds; past them it is
 * told which targets it missed, and closes those clients so they re-fetch.
 *
 * Resolving at the first acknowledgement leaves the other lanes holding the batch: with `trackSettlements()` (the
 * chain calls it when it has an outbox), `settlementOf(id)` says when every lane is done with an acknowledged
 * envelope, so its outbox record outlives a slower lane's backlog.
 */
export class HttpBridgeTransport implements RealtimeTransport {
  readonly name = 'http-bridge' as const;
  readonly lanes: readonly HttpBridgeLane[];
  private readonly timeoutMs: number;
  private readonly closeTimeoutMs: number;
  private closed = false;
  /** Acknowledged envelopes some lane still holds, by id (only while settlements are tracked). */
  private unsettled?: Map<string, BridgeTicket<HttpBridgeLane>>;

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
      return new HttpBridgeLane(
        parsed,
        new URL(settings.healthUrls[i]),
        laneSettings,
        metrics.lane(redactUrl(parsed.href)),
      );
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
    if (this.unsettled) this.trackTicket(ticket, batch, this.unsettled);
    const now = Date.now();
    // One envelope's worth held until every lane queued its share, so no lane settles the ticket before another
    // queued it.
    ticket.queued(1);
    // Down lanes queue the batch too: they get it once their probe passes, unless another instance never took it
    // (then the ticket is rejected and withdrawn everywhere; the chain sends it again).
    for (const lane of this.lanes) {
      lane.enqueue(batch, ticket, now);
      if (ticket.rejected) break;
    }
    ticket.laneSettled(1);
    return ticket.promise;
  }

  /** From now on, `settlementOf` answers for the envelopes `publish` acknowledges. */
  trackSettlements(): void {
    this.unsettled ??= new Map();
  }

  /**
   * For an envelope `publish` acknowledged: undefined when every lane is done with it, else a promise of `true` once
   * each lane delivered it or gave it up and told its instance, `false` when one never will (shutdown).
   */
  settlementOf(id: string): Promise<boolean> | undefined {
    return this.unsettled?.get(id)?.whenSettled();
  }

  /** At the first acknowledgement, the batch's ids are indexed until every lane is done with it. */
  private trackTicket(
    ticket: BridgeTicket<HttpBridgeLane>,
    batch: readonly OutboundEnvelope[],
    unsettled: Map<string, BridgeTicket<HttpBridgeLane>>,
  ): void {
    ticket.onAcked = () => {
      if (ticket.allLanesSettled) return;
      const ids = batch.map((outbound) => outbound.envelope.id);
      for (const id of ids) unsettled.set(id, ticket);
      ticket.onSettled = () => {
        for (const id of ids) if (unsettled.get(id) === ticket) unsettled.delete(id);
      };
    };
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
    return this.lanes.map((lane) => `${lane.name}: ${lane.lastError ?? 'no answer yet'}`).join('; ');
  }
}
