import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportPublishError } from '../errors/transport-publish.error';
import type { RealtimeTransport, TransportName } from '../transports/realtime-transport.interface';

/** A transport under the test's control: it records what it got and fails or hangs on demand. */
export class FakeTransport implements RealtimeTransport {
  readonly received: OutboundEnvelope[] = [];
  readonly batches: number[] = [];
  failing = false;
  healthy = true;
  /** Indexes (within a batch) to fail, for partial failures. */
  failIndexes?: number[];
  private hold?: Promise<void>;
  private release?: () => void;

  constructor(readonly name: TransportName) {}

  ids(): string[] {
    return this.received.map((o) => o.envelope.id);
  }

  /** Makes publishes wait until `resume()`. */
  pause(): void {
    this.hold = new Promise((resolve) => (this.release = resolve));
  }

  resume(): void {
    this.release?.();
    this.hold = undefined;
  }

  async start(): Promise<void> {}

  async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    if (this.hold) await this.hold;
    this.batches.push(batch.length);
    if (this.failing) throw new TransportPublishError(this.name, 'down');
    if (this.failIndexes) {
      const failed = this.failIndexes.filter((i) => i < batch.length);
      batch.forEach((o, i) => !failed.includes(i) && this.received.push(o));
      throw new TransportPublishError(this.name, 'partial', failed);
    }
    this.received.push(...batch);
  }

  async health(): Promise<void> {
    if (!this.healthy) throw new Error(`${this.name} unhealthy`);
  }

  async close(): Promise<void> {}
}
