import type { ArgumentsHost } from '@nestjs/common';
import { MessagesNotStoredError } from '../chat/storage/messages-not-stored.error';
import { DatabaseUnavailableError } from '../database/database-unavailable.error';
import { DatabaseUnavailableFilter } from './database-unavailable.filter';

function answerTo(error: DatabaseUnavailableError | MessagesNotStoredError): { status: number; body: unknown } {
  const answer = { status: 0, body: undefined as unknown };
  const response = {
    status: (code: number) => {
      answer.status = code;
      return { json: (body: unknown) => (answer.body = body) };
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new DatabaseUnavailableFilter().catch(error, host);
  return answer;
}

describe('DatabaseUnavailableFilter', () => {
  it('answers a failed group commit 503 with a message to retry, naming no cause', () => {
    const error = new MessagesNotStoredError(12, { cause: new Error('SQLITE_FULL: database or disk is full') });
    expect(answerTo(error)).toEqual({
      status: 503,
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'message not stored (database error); try again',
      },
    });
  });

  it('answers a database outage 503', () => {
    expect(answerTo(new DatabaseUnavailableError('db:5432/chat', 'connection refused'))).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'database unavailable; try again' },
    });
  });
});
