import type { ServerResponse } from 'node:http';
import type { HubSocket } from './hub-socket';
import { SocketListeners } from './listeners';
import type { SharedFrame } from './shared-frame';

/** A client that stops polling after a close gets this long to fetch its close message. */
const CLOSING_GRACE_MS = 5000;

/**
 * The long-polling transport: frames wait in a buffer until the client's next `GET`, which returns all of them
 * (or empty after the poll timeout, or 204 once the connection is over); the client's frames come as `POST`s.
 * One poll at a time: a newer one answers the older empty.
 */
export class LongPollingSocket implements HubSocket {
  readonly transport = 'LongPolling' as const;
  readonly carriesBinary = true;
  readonly listeners = new SocketListeners();
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private binary = false;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private waiting?: { response: ServerResponse; timer: NodeJS.Timeout };
  private closingTimer?: NodeJS.Timeout;
  private answering = false;

  constructor(private readonly pollTimeoutMs: number) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  send(frame: string | Buffer, binary: boolean): void {
    if (this.state === 'closed') return;
    const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    this.binary = binary;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    // Answered on the next turn, so what is sent in this one (a batch of envelopes) goes in one response.
    if (this.waiting && !this.answering) {
      this.answering = true;
      setImmediate(() => {
        this.answering = false;
        if (this.waiting && this.queue.length > 0) this.answer(this.take());
      });
    }
  }

  sendShared(frame: SharedFrame): void {
    this.send(frame.payload, frame.binary);
  }

  /** A `GET` from the client. */
  poll(response: ServerResponse): void {
    if (this.waiting) this.answer(undefined);
    if (this.state === 'closed') return void response.writeHead(204).end();
    if (this.queue.length > 0) return this.respond(response, this.take());
    if (this.state === 'closing') {
      response.writeHead(204).end();
      return this.finish();
    }
    const timer = setTimeout(() => this.answer(undefined), this.pollTimeoutMs);
    this.waiting = { response, timer };
    response.on('close', () => {
      if (this.waiting?.response !== response) return;
      clearTimeout(timer);
      this.waiting = undefined;
    });
  }

  /** The first poll: the connection exists now, nothing to return yet. */
  opened(response: ServerResponse): void {
    this.respond(response, undefined);
  }

  /** Ends after the client fetched what is buffered (its close message), or after a grace period. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    if (this.waiting && this.queue.length === 0) {
      const { response, timer } = this.waiting;
      clearTimeout(timer);
      this.waiting = undefined;
      response.writeHead(204).end();
      return this.finish();
    }
    this.closingTimer = setTimeout(() => this.finish(), CLOSING_GRACE_MS);
    this.closingTimer.unref();
  }

  terminate(): void {
    this.queue = [];
    this.queuedBytes = 0;
    if (this.waiting) {
      const { response, timer } = this.waiting;
      clearTimeout(timer);
      this.waiting = undefined;
      response.writeHead(204).end();
    }
    this.finish();
  }

  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.listeners.onMessage(listener);
  }

  onClose(listener: () => void): void {
    this.listeners.onClose(listener);
  }

  private take(): Buffer {
    const body = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    return body;
  }

  private answer(body: Buffer | undefined): void {
    const waiting = this.waiting;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting = undefined;
    this.respond(waiting.response, body);
  }

  private respond(response: ServerResponse, body: Buffer | undefined): void {
    response.writeHead(200, {
      'content-type': this.binary ? 'application/octet-stream' : 'text/plain; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      'content-length': body?.length ?? 0,
    });
    response.end(body);
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.closingTimer);
    this.listeners.closedNow();
  }
}
