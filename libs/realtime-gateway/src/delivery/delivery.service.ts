import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { type Envelope, epochMs, type RealtimeTarget, targetOfKey } from '@realtime-streams/contracts';
import { ConnectionRegistry } from '../hub/connection-registry';
import type { HubConnection } from '../hub/hub-connection';
import type { MessageOrigin, StreamEntryRef } from '../hub/message-origin';
import type { HubProtocolCodec } from '../hub/protocols/hub-protocol-codec';
import { type PositionVector, StreamPositions } from '../hub/session/stream-positions';
import { SharedFrame } from '../hub/transports/shared-frame';
import { type DeliverySource, RealtimeGatewayMetrics } from '../metrics/realtime-gateway.metrics';
import type { DeliveryMetrics } from './delivery.metrics';
import { RESOLVED_GATEWAY_OPTIONS } from '../realtime-gateway.constants';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { MISSED_ENTRIES_REASON } from '../stream/gap-reporter';
import { DedupWindow } from './dedup-window';
import { type OrderBreak, TargetOrder } from './target-order';

export type { StreamEntryRef } from '../hub/message-origin';

/** One protocol's frame of an envelope, and how many sockets it was written to. */
interface Encoded {
  frame: SharedFrame;
  written: number;
}

/** An envelope on its way to its recipients, with what its delivery needs. */
interface Delivery {
  envelope: Envelope;
  source: DeliverySource;
  argsJson?: string;
  entry?: StreamEntryRef;
}

/**
 * Closes a target's connections with a reconnectable close carrying `reason` (set by the hub); returns how many.
 */
export type TargetCloser = (target: RealtimeTarget, reason: string) => number;

/**
 * Delivers envelopes to the connections they target, whatever transport brought them: drops duplicates (dual
 * write, redelivery, retries carry the same id), puts a target's numbered envelopes in their commit order
 * (TargetOrder), builds the invocation frame once per protocol, and hands it to every recipient with its origin.
 * What a connection does with it (write it, skip it for a backed-up client, number and keep it for a stateful
 * session) is the connection's business.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger('RealtimeDelivery');
  private readonly dedup: DedupWindow;
  /** Connections holding frames for the batch that runs now (undefined: no batch, every frame written at once). */
  private holding?: HubConnection[];
  private readonly order: TargetOrder<Delivery>;
  /** Set by the hub: closes a target's connections when its order could not be kept. */
  closeTarget: TargetCloser = () => 0;
  private readonly origin: EnvelopeOrigin;
  /** Sockets written since start: what a numbered delivery wrote is the difference across it. */
  private sockets = 0;

  constructor(
    private readonly registry: ConnectionRegistry,
    // Injected by class: an interface has no runtime token.
    @Inject(RealtimeGatewayMetrics) private readonly metrics: DeliveryMetrics,
    @Inject(RESOLVED_GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
    /** Where the consumer stands (none without Redis): stateful sessions record it with what they are sent. */
    @Optional() private readonly positions?: StreamPositions,
  ) {
    this.dedup = new DedupWindow(options.dedup.ttlMs, options.dedup.maxEntries);
    this.origin = new EnvelopeOrigin(positions);
    this.order = new TargetOrder<Delivery>(options.ordering, metrics, {
      deliver: ({ envelope, source, argsJson, entry }, released) =>
        this.send(envelope, source, argsJson, entry, released),
      hasRecipients: (target) => this.recipientsOf(target).size > 0,
      holding: (target) => this.holdingFor(target),
      giveUp: (target, reason) => this.orderBroken(target, reason),
    });
  }

  /** Whether envelopes of `target` wait for an earlier one now (a resume replaying it could not be exact). */
  holds(target: RealtimeTarget): boolean {
    return this.order.holds(target);
  }

  /**
   * The target's envelopes wait for an earlier one: its stateful sessions' records would say they got what came
   * before a held entry in the stream, and a replay would skip it (see HubConnection.orderHeld).
   */
  private holdingFor(target: RealtimeTarget): void {
    for (const connection of this.recipientsOf(target)) connection.orderHeld();
  }

  /**
   * Whether an envelope for `targetKey` (the routing key a stream entry carries: `group:<name>`, `user:<id>` or
   * `all`, see targetKeyOf) has a recipient here, decided before anything is parsed. When it has none, a numbered
   * one (`seq`) moves its target's order past it (TargetOrder.passedBy). An unknown key is wanted: the envelope is
   * then parsed and checked as usual.
   */
  wants(targetKey: string, seq: number | undefined): boolean {
    let recipients: ReadonlySet<HubConnection>;
    let target: RealtimeTarget;
    if (targetKey.startsWith('group:')) {
      const name = targetKey.slice(6);
      recipients = this.registry.group(name);
      if (recipients.size > 0) return true;
      target = { kind: 'group', name };
    } else if (targetKey.startsWith('user:')) {
      const id = targetKey.slice(5);
      recipients = this.registry.user(id);
      if (recipients.size > 0) return true;
      target = { kind: 'user', id };
    } else if (targetKey === 'all') {
      if (this.registry.size > 0) return true;
      target = { kind: 'all' };
    } else return true;
    if (seq !== undefined) this.order.passedBy(target, seq);
    return false;
  }

  /**
   * A numbered entry of `targetKey` (a routing key) this gateway will not read, since it came before a shard's
   * reading started (interest routing): its target's order moves past it, as for an entry for nobody.
   */
  passed(targetKey: string, seq: number): void {
    const target = targetOfKey(targetKey);
    if (target) this.order.passedBy(target, seq);
  }

  /** A publisher gave up envelopes of these targets, and their clients were told (see TargetOrder.forget). */
  forgetOrder(targets: readonly RealtimeTarget[]): void {
    this.order.forget(targets);
  }

  /** Stops the ordering holds' timers. */
  stop(): void {
    this.order.stop();
  }

  /**
   * Runs `deliveries` (the `count` envelopes of one stream read, one bridge batch) so that each connection gets
   * what they send it as one frame of several messages, written when the batch ends. Order per connection is kept;
   * a batch inside a batch is part of it. A single envelope, or `hub.batchWrites` off: every frame is written at
   * once (holding one frame per connection would only cost).
   */
  batch<T>(count: number, deliveries: () => T): T {
    if (count < 2 || this.holding || !this.options.hub.batchWrites) return deliveries();
    const holding: HubConnection[] = (this.holding = []);
    try {
      return deliveries();
    } finally {
      this.holding = undefined;
      for (const connection of holding) connection.flush();
    }
  }

  /**
   * Delivers one validated envelope; `argsJson` is its args as JSON when the caller has them (the inbound check and
   * the publisher serialized them already: bounded in depth and size), else they are serialized here, once. Returns
   * the number of sockets written (0 for a numbered envelope held for an earlier one of its target).
   */
  deliver(envelope: Envelope, source: DeliverySource, argsJson?: string, entry?: StreamEntryRef): number {
    this.metrics.envelopeReceived(source);
    if (this.dedup.isDuplicate(envelope.id)) {
      this.metrics.duplicateDropped(source);
      return 0;
    }
    // Volatile envelopes are never replayed, so there is no order of theirs to wait for.
    if (envelope.seq === undefined || envelope.volatile) return this.send(envelope, source, argsJson, entry, false);
    // What it wrote, and what it released behind it.
    const before = this.sockets;
    this.order.offer({ envelope, source, argsJson, entry });
    return this.sockets - before;
  }

  private orderBroken(target: RealtimeTarget, reason: OrderBreak): void {
    // The same words as a stream gap: the client's answer is the same, re-fetch.
    const closed = this.closeTarget(target, MISSED_ENTRIES_REASON);
    this.metrics.orderDisconnected(closed);
    const what = target.kind === 'all' ? 'everyone' : target.kind === 'group' ? `group ${target.name}` : 'a user';
    const message = `The order of ${what} could not be kept (${REASONS[reason]}): closed ${closed} connections so clients re-fetch`;
    // Nobody here was told (its members left meanwhile): counted, not worth a warning.
    if (closed > 0) this.logger.warn(message);
    else this.logger.debug(message);
  }

  /**
   * Hands one envelope to its recipients. `released`: a numbered envelope that waited for an earlier one, written
   * after stream entries read later than its own (see MessageOrigin).
   */
  private send(
    envelope: Envelope,
    source: DeliverySource,
    argsJson: string | undefined,
    entry: StreamEntryRef | undefined,
    released: boolean,
  ): number {
    const recipients = this.recipientsOf(envelope.target);
    if (recipients.size === 0) return 0;
    // One frame per protocol in use among the recipients, built when its first recipient comes up; keyed by the
    // codec itself, so any number of protocols each get their own.
    const frames = new Map<HubProtocolCodec, Encoded>();
    const origin = this.origin.of(envelope, entry, released);
    const now = Date.now();
    for (const connection of recipients) {
      const codec = connection.codec;
      let encoded = frames.get(codec);
      if (!encoded) {
        const frame = new SharedFrame(codec.invocation(envelope.method, envelope.args, argsJson), codec.binary);
        frames.set(codec, (encoded = { frame, written: 0 }));
      }
      if (connection.deliver(encoded.frame, origin, now, this.holding)) encoded.written++;
    }
    let written = 0;
    for (const [codec, { frame, written: sockets }] of frames) {
      if (sockets === 0) continue;
      written += sockets;
      this.metrics.framesWritten(codec.name, sockets, sockets * frame.payload.length);
    }
    this.metrics.invocationsWritten(source, written);
    if (written > 0) this.metrics.observeLatency(source, Math.max(0, epochMs() - envelope.ts) / 1000);
    this.sockets += written;
    return written;
  }

  private recipientsOf(target: RealtimeTarget): ReadonlySet<HubConnection> {
    if (target.kind === 'group') return this.registry.group(target.name);
    if (target.kind === 'user') return this.registry.user(target.id);
    return this.registry.all;
  }
}

/**
 * The origin of the envelope being handed out, shared by its recipients and reused for the next one: no object per
 * envelope. A connection that keeps it past the hand-out (a resuming session holding live messages) copies it. The
 * consumer's position is read only if a stateful session asks, once per envelope.
 */
class EnvelopeOrigin implements MessageOrigin {
  envelopeId = '';
  volatile = false;
  entry: StreamEntryRef | undefined;
  released = false;
  private position: PositionVector | undefined | null = null;

  constructor(private readonly positions: StreamPositions | undefined) {}

  /** Now the origin of `envelope`. */
  of(envelope: Envelope, entry: StreamEntryRef | undefined, released: boolean): this {
    this.envelopeId = envelope.id;
    this.volatile = envelope.volatile === true;
    this.entry = entry;
    this.released = released;
    this.position = null;
    return this;
  }

  get at(): PositionVector | undefined {
    if (this.position === null) this.position = this.positions?.current();
    return this.position;
  }
}

const REASONS: Record<OrderBreak, string> = {
  timeout: 'an earlier envelope did not come within ordering.holdMs',
  late: 'an earlier envelope came after a later one went out',
  overflow: 'ordering.maxHeld envelopes were held already',
};
