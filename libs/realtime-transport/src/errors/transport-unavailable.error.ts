import type { TransportName } from '../transports/realtime-transport.interface';

/** A transport's health probe failed: it cannot take envelopes right now. */
export class TransportUnavailableError extends Error {
  constructor(
    readonly transport: TransportName,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport} is unavailable: ${reason}`, options);
    this.name = 'TransportUnavailableError';
  }
}
