import type { ServerResponse } from 'node:http';
import type { HubSocket } from './hub-socket';
import { SocketListeners } from './listeners';
import type { SharedFrame } from './shared-frame';

const DATA = Buffer.from('data: ');
const EVENT_END = Buffer.from('\r\n\r\n');
const LINE_FEED = 0x0a;

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

  /**
   * One event per frame, written as one buffer: Node holds a string write twice over while the client does not read
   * (the string, and its bytes in flight), about four times what `writableLength` says; a buffer once.
   */
  send(frame: string | Buffer): void {
    const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    if (!bytes.includes(LINE_FEED)) {
      this.response.write(Buffer.concat([DATA, bytes, EVENT_END], DATA.length + bytes.length + EVENT_END.length));
      return;
    }
    // A line break inside would end the data line, so each line gets its own `data:`.
    const lines = bytes.toString('utf8').split(/\r?\n/);
    this.response.write(Buffer.from(`data: ${lines.join('\r\ndata: ')}\r\n\r\n`, 'utf8'));
  }

  sendShared(frame: SharedFrame): void {
    this.send(frame.payload);
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
