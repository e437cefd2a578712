import type { IncomingMessage } from 'node:http';
import { errorMessage } from '@realtime-streams/common';
import { ClientRequestError } from '../errors/client-request.error';

export class BodyTooLargeError extends ClientRequestError {
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`, 413);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body, refusing (and stopping) as soon as it passes `limit` bytes. A body the client cuts short
 * (aborted, connection reset) is a `ClientRequestError`, not a server fault.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof ClientRequestError) throw error;
    throw new ClientRequestError(`request body not received whole (${errorMessage(error)})`);
  }
  return Buffer.concat(chunks, size);
}
