import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { MessagesNotStoredError } from '../chat/storage/messages-not-stored.error';
import { DatabaseUnavailableError } from '../database/database-unavailable.error';

/** What the filter needs of Express's response. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/**
 * A database outage is the server's "not now", not a bug: 503 in the shape of every other error answer, so the
 * client retries, instead of Nest's 500 with a stack trace per request. PostgresDatabase logs the outage once, with
 * its cause; the answer names no host. A failed group commit (`MessagesNotStoredError`, logged once per batch by
 * the repository) answers every request of the batch the same way: nothing of it was stored.
 */
@Catch(DatabaseUnavailableError, MessagesNotStoredError)
export class DatabaseUnavailableFilter implements ExceptionFilter {
  catch(error: DatabaseUnavailableError | MessagesNotStoredError, host: ArgumentsHost): void {
    const message =
      error instanceof MessagesNotStoredError
        ? 'message not stored (database error); try again'
        : 'database unavailable; try again';
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(503)
      .json({ statusCode: 503, error: 'Service Unavailable', message });
  }
}
