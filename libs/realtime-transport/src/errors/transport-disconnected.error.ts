import type { TransportName } from '../transports/realtime-transport.interface';
import { TransportUnavailableError } from './transport-unavailable.error';

/**
 * The transport knows it has no connection (Redis: the client is reconnecting). Unlike a timeout, which may be a
 * passing slowness, this opens the breaker at once: no envelope should wait for the failure threshold to be reached.
 */
export class TransportDisconnectedError extends TransportUnavailableError {
  constructor(transport: TransportName, reason: string) {
    super(transport, reason);
    this.name = 'TransportDisconnectedError';
  }
}
