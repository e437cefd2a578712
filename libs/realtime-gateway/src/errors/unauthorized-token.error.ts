/** A missing, malformed, expired or badly signed access token: answered with 401. */
export class UnauthorizedTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnauthorizedTokenError';
  }
}
