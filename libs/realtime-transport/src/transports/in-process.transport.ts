import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportPublishError } from '../errors/transport-publish.error';
import { TransportUnavailableError } from '../errors/transport-unavailable.error';
import { errorMessage } from '@realtime-streams/common';
import type { InProcessSinkRegistry } from '@realtime-streams/common';
import type { RealtimeTransport } from './realtime-transport.interface';

/** Hands envelopes to the sink registered in this process: single-node delivery without a network hop. */
export class InProcessTransport implements RealtimeTransport {
  readonly name = 'in-process' as const;

  constructor(private readonly registry: InProcessSinkRegistry) {}

  async start(): Promise<void> {}

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    const sink = this.registry.sink;
    if (!sink) throw new TransportPublishError(this.name, 'no in-process sink is registered');
    try {
      await sink(batch);
    } catch (error) {
      throw new TransportPublishError(this.name, errorMessage(error), undefined, { cause: error });
    }
  }

  /** Waits (within the probe's timeout) for the sink of a gateway still starting in this process. */
  async health(): Promise<void> {
    await this.registry.registered();
    if (!this.registry.sink) throw new TransportUnavailableError(this.name, 'no in-process sink is registered');
  }

  async close(): Promise<void> {}
}
