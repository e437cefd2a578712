import { Inject, Injectable, Optional } from '@nestjs/common';
import { type Envelope, epochMs } from '@realtime-streams/contracts';
import { ConnectionRegistry } from '../hub/connection-registry';
import type { HubConnection } from '../hub/hub-connection';
import { HUB_PROTOCOLS } from '../hub/protocols/hub-protocols';
import { SharedFrame } from '../hub/transports/shared-frame';
import { type DeliverySource, RealtimeGatewayMetrics } from '../metrics/realtime-gateway.metrics';
import { RESOLVED_GATEWAY_OPTIONS } from '../realtime-gateway.constants';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { StatefulSessions } from '../hub/session/stateful-sessions';
import type { PositionVector } from '../hub/session/stream-positions';
import { DedupWindow } from './dedup-window';

/** The stream entry an envelope was read from. */
export interface StreamEntryRef {
  key: string;
  id: string;
}

/**
 * Delivers envelopes to the connections they target, whatever transport brought them: drops duplicates (dual
 * write, redelivery, retries carry the same id), builds the invocation frame once, and writes it to every
 * recipient without letting a backed-up socket slow the others.
 */
@Injectable()
export class DeliveryService {
  private readonly dedup: DedupWindow;
  /** Connections holding frames for the batch that runs now (undefined: no batch, every frame written at once). */
  private holding?: HubConnection[];

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly metrics: RealtimeGatewayMetrics,
    @Inject(RESOLVED_GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
    @Optional() private readonly sessions?: StatefulSessions,
  ) {
    this.dedup = new DedupWindow(options.dedup.ttlMs, options.dedup.maxEntries);
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
   * the number of sockets written.
   */
  deliver(envelope: Envelope, source: DeliverySource, argsJson?: string, entry?: StreamEntryRef): number {
    const children = this.metrics.forTransport(source);
    children.received.inc();
    if (this.dedup.isDuplicate(envelope.id)) {
      this.metrics.dedupDropped.inc({ transport: source });
      return 0;
    }
    const recipients = this.recipientsOf(envelope);
    if (recipients.size === 0) return 0;
    // One frame per protocol in use among the recipients, built when its first recipient comes up.
    const frames: Array<SharedFrame | undefined> = [undefined, undefined];
    const writtenBy = [0, 0];
    const now = Date.now();
    // Where the consumer stands, for stateful sessions: one snapshot per envelope, shared by its recipients.
    let at: PositionVector | undefined | null = null;
    for (const connection of recipients) {
      const index = connection.codec === HUB_PROTOCOLS[0] ? 0 : 1;
      const frame = (frames[index] ??= new SharedFrame(
        connection.codec.invocation(envelope.method, envelope.args, argsJson),
        connection.codec.binary,
      ));
      // A resuming session (`held`: its replay is being read) has no session object yet, but is one.
      if (connection.session || connection.held) {
        if (at === null) at = this.sessions?.position();
        if (this.writeToSession(connection, frame.payload, now, at, entry, envelope.id)) writtenBy[index]++;
      } else if (this.write(connection, frame, envelope.volatile, now)) writtenBy[index]++;
    }
    const written = writtenBy[0] + writtenBy[1];
    children.sent.inc(written);
    for (let i = 0; i < frames.length; i++) {
      if (writtenBy[i] === 0) continue;
      const byProtocol = this.metrics.forProtocol(HUB_PROTOCOLS[i].name);
      byProtocol.frames.inc(writtenBy[i]);
      byProtocol.bytes.inc(writtenBy[i] * frames[i]!.payload.length);
    }
    if (written > 0) children.latency.observe(Math.max(0, epochMs() - envelope.ts) / 1000);
    return written;
  }

  private recipientsOf(envelope: Envelope): ReadonlySet<HubConnection> {
    const target = envelope.target;
    if (target.kind === 'group') return this.registry.group(target.name);
    if (target.kind === 'user') return this.registry.user(target.id);
    return this.registry.all;
  }

  /**
   * A stateful session gets everything, volatile envelopes too (a replay after a crash must number what was sent
   * exactly as it was), numbered and kept until acknowledged, socket or not. Its bound is the replay buffer, which
   * the connection checks: past it the client is closed with a reconnectable close message and starts over.
   */
  private writeToSession(
    connection: HubConnection,
    frame: Buffer,
    now: number,
    at: PositionVector | undefined,
    entry: StreamEntryRef | undefined,
    envelopeId: string,
  ): boolean {
    if (!connection.handshakeDone || connection.ended) return false;
    if (this.holding && connection.isOpen && connection.hold()) this.holding.push(connection);
    connection.sendMessage(frame, now, at, entry, envelopeId);
    return true;
  }

  /**
   * Writes unless the client is backed up: past the soft bound volatile envelopes are skipped; past the hard bound
   * the connection closes itself (HubConnection checks every frame it queues, of every kind, in one place).
   */
  private write(connection: HubConnection, frame: SharedFrame, volatile: boolean, now: number): boolean {
    if (!connection.handshakeDone || !connection.isOpen) return false;
    if (volatile && connection.bufferedBytes > this.options.slowClients.softLimitBytes) {
      this.metrics.slowClientDrops.inc();
      return false;
    }
    if (this.holding && connection.hold()) this.holding.push(connection);
    return connection.sendShared(frame, now);
  }
}
