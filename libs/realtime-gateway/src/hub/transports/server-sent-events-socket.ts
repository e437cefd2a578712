import type { ServerResponse } from 'node:http';
import { eventStreamEvent } from './event-stream-event';
import type { HubSocket } from './hub-socket';
import { SocketListeners } from './listeners';
import type { SharedFrame } from './shared-frame';

/**
 * The Server-Sent Events transport: frames go down one long `GET` response as `data:` events (text only); the
 * client's frames come as `POST`s to the same URL. The connection lasts as long as that response.
 */
export class ServerSentEventsSocket implements HubSocket {
  readonly transport = 'ServerSentEvents' as const;
  readonly carriesBinary = false;
  readonly listeners = new SocketListeners();
  private ending = false;

  constructor(private readonly response: ServerResponse) {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-store',
      // Proxies such as nginx would hold the stream back otherwise.
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    response.on('close', () => this.listeners.closedNow());
  }

  get isOpen(): boolean {
    return !this.ending && !this.listeners.isClosed && this.response.writable;
  }

  get bufferedBytes(): number {
    return this.response.writableLength;
  }

  /** One event per frame. */
  send(frame: string | Buffer): void {
    this.response.write(eventStreamEvent(typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame));
  }

  /** A delivery's event is built once for all its SSE recipients, as its WebSocket frame is. */
  sendShared(frame: SharedFrame): void {
    this.response.write(frame.eventStreamEvent);
  }

  close(): void {
    this.ending = true;
    this.response.end();
  }

  terminate(): void {
    this.ending = true;
    this.response.destroy();
    this.listeners.closedNow();
  }

  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.listeners.onMessage(listener);
  }

  onClose(listener: () => void): void {
    this.listeners.onClose(listener);
  }
}
