import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RealtimeEventOptions } from '../decorators/realtime-event.decorator';
import { EnvelopeMapper } from '../envelope/envelope.mapper';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large.error';
import { InvalidEnvelopeError } from '../errors/invalid-envelope.error';
import { RealtimeTransportMetrics } from '../metrics/realtime-transport.metrics';
import { NotDurableEventError } from '../outbox/not-durable-event.error';
import { OutboxNotConfiguredError } from '../outbox/outbox-not-configured.error';
import type { OutboxRecord } from '../outbox/outbox-store.interface';
import { linkPrepared, PreparedEnvelope, preparedOf } from '../outbox/prepared-envelope';
import { RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
import type { ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import { errorMessage } from '@realtime-streams/common';
import { PublishPipeline } from './publish.pipeline';
import { RealtimeEventRegistry } from './realtime-event.registry';
import { type PublishedVia, UndecoratedEventWarnings } from './undecorated-event.warnings';

/**
 * Publishes `@RealtimeEvent` events. The module calls it for every event on the EventBus; applications without
 * CQRS can call it directly.
 *
 * Durable accept (with `outbox: { store }` in the module options): `prepare` an event inside the transaction of the
 * domain change and insert `prepared.record` into the outbox table in that same transaction; after the commit,
 * `publishPrepared` (or publish the event on the EventBus). `publishDurably` does both around a callback.
 */
@Injectable()
export class RealtimePublisher {
  private readonly logger = new Logger('RealtimePublisher');
  private readonly durable: boolean;
  private readonly undecorated: UndecoratedEventWarnings;

  constructor(
    private readonly registry: RealtimeEventRegistry,
    private readonly mapper: EnvelopeMapper,
    private readonly pipeline: PublishPipeline,
    private readonly metrics: RealtimeTransportMetrics,
    @Inject(RESOLVED_REALTIME_OPTIONS) options: ResolvedRealtimeTransportOptions,
  ) {
    this.durable = options.outbox !== undefined;
    this.undecorated = new UndecoratedEventWarnings(options.warnUndecoratedEvents);
  }

  /**
   * Maps the event and queues its envelope. Returns the envelope, or undefined for an event without
   * `@RealtimeEvent` (warned about once per class). Never waits for a transport.
   *
   * @throws InvalidEnvelopeError or EnvelopeTooLargeError (counted in `realtime_rejected_events_total`).
   */
  publish(event: object): OutboundEnvelope | undefined {
    return this.publishVia(event, 'publisher');
  }

  private publishVia(event: object, via: PublishedVia): OutboundEnvelope | undefined {
    if (this.durable) {
      // An event prepared for the outbox: its own envelope (same id as the stored record), published once.
      const prepared = preparedOf(event);
      if (prepared) {
        this.publishPrepared(prepared);
        return prepared.outbound;
      }
    }
    const options = this.registry.optionsOf(event);
    if (!options) {
      this.undecorated.report(event, via);
      return undefined;
    }
    const outbound = this.map(event, options);
    this.pipeline.submit(outbound);
    return outbound;
  }

  /**
   * Maps, validates and serializes the event, fixing its id, without publishing it. Insert `record` into the outbox
   * table in the transaction of the domain change, then, after the commit, call `publishPrepared` (or publish the
   * event on the EventBus: the module then publishes this envelope, not a new one). Preparing the same event object
   * again returns the same envelope. If the transaction fails, drop the prepared envelope.
   *
   * @throws OutboxNotConfiguredError when the module has no outbox; NotDurableEventError for an event without
   * `@RealtimeEvent`, or a volatile or coalesced one; InvalidEnvelopeError or EnvelopeTooLargeError as `publish`.
   */
  prepare(event: object): PreparedEnvelope {
    const known = preparedOf(event);
    if (known && PreparedEnvelope.reusableBy(known, this)) return known;
    const options = this.registry.optionsOf(event);
    const type = options?.type ?? event.constructor.name;
    if (!this.durable) throw new OutboxNotConfiguredError(type);
    if (!options) throw new NotDurableEventError(type, 'its class has no @RealtimeEvent');
    if (options.coalesce) throw new NotDurableEventError(type, 'it is coalesced (coalesced events may be dropped)');
    if (options.volatile) throw new NotDurableEventError(type, 'it is volatile (volatile events are never replayed)');
    const prepared = new PreparedEnvelope(this.map(event, options), this);
    linkPrepared(event, prepared);
    return prepared;
  }

  /**
   * Publishes envelopes whose outbox records are committed: at once, from memory (no store round trip). They are
   * never dropped: when the buffer is full they wait in the store and the relay sends them, in order. Their records
   * are removed once a transport acknowledged them. A prepared envelope already published is skipped, so calling
   * this and publishing the event on the EventBus sends it once. Never waits for a transport.
   *
   * Call it only after the commit: an envelope published for a transaction that then rolls back reaches clients.
   */
  publishPrepared(prepared: PreparedEnvelope | readonly PreparedEnvelope[]): void {
    const all: readonly unknown[] = Array.isArray(prepared) ? prepared : [prepared];
    for (const one of all) {
      if (!PreparedEnvelope.isGenuine(one)) {
        throw new TypeError('publishPrepared takes what RealtimePublisher.prepare returned');
      }
      // Published already (publishPrepared and the EventBus both called), discarded, or another module's: skipped.
      if (PreparedEnvelope.claim(one, this)) this.pipeline.submitDurable(one.outbound);
    }
  }

  /**
   * `prepare`, then `write(record)` (the application's transaction: domain change and outbox insert), then
   * `publishPrepared` once `write` returned, or once its promise resolved. When `write` throws or rejects, nothing
   * is published and the error is passed on. Returns what `write` returned.
   *
   * @example
   * ```ts
   * const message = publisher.publishDurably(new MessageCreated(draft), (record) =>
   *   db.transaction(() => {
   *     messages.insert(draft);
   *     outbox.insert(record);
   *     return draft;
   *   })(),
   * );
   * ```
   */
  publishDurably<T>(event: object, write: (record: OutboxRecord) => T): T {
    const prepared = this.prepare(event);
    let result: T;
    try {
      result = write(prepared.record);
    } catch (error) {
      this.discard(event, prepared);
      throw error;
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          this.publishPrepared(prepared);
          return value;
        },
        (error: unknown) => {
          this.discard(event, prepared);
          throw error;
        },
      ) as T;
    }
    this.publishPrepared(prepared);
    return result;
  }

  /** The transaction failed: the prepared envelope must never go out, not even through the EventBus. */
  private discard(event: object, prepared: PreparedEnvelope): void {
    PreparedEnvelope.discard(prepared);
    if (preparedOf(event) === prepared) linkPrepared(event, undefined);
  }

  private map(event: object, options: RealtimeEventOptions): OutboundEnvelope {
    try {
      return this.mapper.map(event, options);
    } catch (error) {
      this.metrics.rejected(options.type ?? event.constructor.name, rejectionReason(error));
      throw error;
    }
  }

  /** `publish` for the EventBus path: what it throws is logged (and was counted), never passed to the publisher. */
  publishQuietly(event: object): void {
    try {
      this.publishVia(event, 'event-bus');
    } catch (error) {
      this.logger.error(errorMessage(error));
    }
  }
}

function isPromiseLike<T>(value: T): value is T & PromiseLike<Awaited<T>> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function rejectionReason(error: unknown): string {
  if (error instanceof EnvelopeTooLargeError) return 'too_large';
  if (error instanceof InvalidEnvelopeError) return 'invalid';
  return 'error';
}
