/**
 * The database cannot be reached or used right now (connection refused or lost, pool exhausted past its wait,
 * server shutting down). Nothing was stored: the REST API answers 503 and the client may retry.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    /** Host and database, never the credentials. */
    readonly where: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`PostgreSQL at ${where} is unavailable: ${reason}`, options);
    this.name = 'DatabaseUnavailableError';
  }
}
