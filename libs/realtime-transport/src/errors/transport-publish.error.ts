import type { TransportName } from '../transports/realtime-transport.interface';

/**
 * A transport did not acknowledge a batch. `failedIndexes` lists the envelopes of the batch that failed when only
 * some did (a Redis pipeline can fail command by command); undefined means the whole batch failed.
 */
export class TransportPublishError extends Error {
  constructor(
    readonly transport: TransportName,
    message: string,
    readonly failedIndexes?: readonly number[],
    options?: { cause?: unknown },
  ) {
    super(`${transport}: ${message}`, options);
    this.name = 'TransportPublishError';
  }
}
