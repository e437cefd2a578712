/**
 * A gateway HTTP request failed for something its client did (the body was cut short, is too large, ...). The
 * gateway answers it with `status` while the connection can still carry an answer, and never logs it as a server
 * error: a client that hangs up mid-request is not an incident.
 */
export class ClientRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ClientRequestError';
  }
}
