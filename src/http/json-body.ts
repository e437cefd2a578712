import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** Largest JSON body the REST API reads: a message is at most 4000 characters, a room at most 1000 members. */
export const MAX_BODY_BYTES = 100 * 1024;

/** What body-parser attaches to the errors it raises. */
interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  charset?: string;
  encoding?: string;
  message?: string;
}

/**
 * JSON bodies through body-parser, and its errors answered here as 4xx JSON naming the problem. Left to the
 * framework they reach Express's or Nest's last-resort handler, which logs a client's mistake (an unsupported
 * charset, a body too large) as a server error with a stack trace.
 */
export function useJsonBody(app: NestExpressApplication, limitBytes = MAX_BODY_BYTES): void {
  app.useBodyParser('json', { limit: limitBytes });
  const logger = new Logger('JsonBody');
  // Four parameters: Express calls it only for errors of the middleware before it, i.e. the parser's.
  app.use((error: unknown, request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => {
    const answer = clientErrorOf(error as BodyParserError, limitBytes);
    if (!answer) return next(error);
    logger.debug(`${request.method} ${request.url}: ${answer.status} ${answer.message}`);
    const body = JSON.stringify({
      statusCode: answer.status,
      error: STATUS_CODES[answer.status],
      message: answer.message,
    });
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
}

function clientErrorOf(error: BodyParserError, limitBytes: number): { status: number; message: string } | undefined {
  switch (error?.type) {
    case 'entity.too.large':
      return { status: 413, message: `request body over ${limitBytes} bytes` };
    case 'charset.unsupported':
      return {
        status: 415,
        message: `unsupported charset "${(error.charset ?? '').toUpperCase()}": send JSON in UTF-8`,
      };
    case 'encoding.unsupported':
      return { status: 415, message: `unsupported content encoding "${error.encoding ?? ''}"` };
    case 'entity.parse.failed':
      return { status: 400, message: `body is not valid JSON (an object or an array): ${error.message ?? ''}` };
    case 'request.aborted':
      return { status: 400, message: 'request aborted before its body was read' };
  }
  const status = error?.status;
  if (error?.expose && typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: error.message ?? STATUS_CODES[status] ?? 'bad request' };
  }
  return undefined;
}
