import { Injectable, Logger } from '@nestjs/common';
import { EnvelopeMapper } from '../envelope/envelope.mapper';
import type { OutboundEnvelope } from '../envelope/envelope.interface';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large.error';
import { InvalidEnvelopeError } from '../errors/invalid-envelope.error';
import { RealtimeTransportMetrics } from '../metrics/realtime-transport.metrics';
import { errorMessage } from '../util/error-message';
import { PublishPipeline } from './publish.pipeline';
import { RealtimeEventRegistry } from './realtime-event.registry';

/**
 * Publishes `@RealtimeEvent` events. The module calls it for every event on the EventBus; applications without
 * CQRS can call it directly.
 */
@Injectable()
export class RealtimePublisher {
  private readonly logger = new Logger('RealtimePublisher');

  constructor(
    private readonly registry: RealtimeEventRegistry,
    private readonly mapper: EnvelopeMapper,
    private readonly pipeline: PublishPipeline,
    private readonly metrics: RealtimeTransportMetrics,
  ) {}

  /**
   * Maps the event and queues its envelope. Returns the envelope, or undefined for an event without
   * `@RealtimeEvent`. Never waits for a transport.
   *
   * @throws InvalidEnvelopeError or EnvelopeTooLargeError (counted in `realtime_rejected_events_total`).
   */
  publish(event: object): OutboundEnvelope | undefined {
    const options = this.registry.optionsOf(event);
    if (!options) return undefined;
    let outbound: OutboundEnvelope;
    try {
      outbound = this.mapper.map(event, options);
    } catch (error) {
      this.metrics.rejected(options.type ?? event.constructor.name, rejectionReason(error));
      throw error;
    }
    this.pipeline.submit(outbound);
    return outbound;
  }

  /** `publish` for the EventBus path: what it throws is logged (and was counted), never passed to the publisher. */
  publishQuietly(event: object): void {
    try {
      this.publish(event);
    } catch (error) {
      this.logger.error(errorMessage(error));
    }
  }
}

function rejectionReason(error: unknown): string {
  if (error instanceof EnvelopeTooLargeError) return 'too_large';
  if (error instanceof InvalidEnvelopeError) return 'invalid';
  return 'error';
}
