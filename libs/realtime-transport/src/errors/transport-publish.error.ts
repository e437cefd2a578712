import type { TransportName } from '../transports/realtime-transport.interface';

/**
 * A transport did not acknowledge a batch. `failedIndexes` lists the envelopes of the batch that failed when only
 * some did (a Redis pipeline can fail command by command); undefined means the whole batch failed. `partsDown`:
 * the failed ones belong to parts of the transport that are down on their own (a cluster node's shards) while the
 * other parts take envelopes, so the transport as a whole is not failing (its breaker is not fed).
 */
export class TransportPublishError extends Error {
  readonly partsDown: boolean;

  constructor(
    readonly transport: TransportName,
    message: string,
    readonly failedIndexes?: readonly number[],
    options?: { cause?: unknown; partsDown?: boolean },
  ) {
    super(`${transport}: ${message}`, options);
    this.name = 'TransportPublishError';
    this.partsDown = options?.partsDown ?? false;
  }
}
