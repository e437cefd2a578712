/**
 * Thrown by a hub method to refuse a call with a message the client may see (in its `invoke` rejection). Other
 * exceptions are logged and reported to the client as a generic error, so internals do not leak.
 */
export class HubMethodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubMethodError';
  }
}
