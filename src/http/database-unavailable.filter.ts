import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { DatabaseUnavailableError } from '../database/database-unavailable.error';

/** What the filter needs of Express's response. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/**
 * A database outage is the server's "not now", not a bug: 503 in the shape of every other error answer, so the
 * client retries, instead of Nest's 500 with a stack trace per request. PostgresDatabase logs the outage once, with
 * its cause; the answer names no host.
 */
@Catch(DatabaseUnavailableError)
export class DatabaseUnavailableFilter implements ExceptionFilter {
  catch(_error: DatabaseUnavailableError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(503)
      .json({ statusCode: 503, error: 'Service Unavailable', message: 'database unavailable; try again' });
  }
}
