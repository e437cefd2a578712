import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { HubSocket } from './hub-socket';
import type { SharedFrame } from './shared-frame';

/** What of ws's internals a shared frame needs: its socket, and whether its sender has queued sends. */
interface WebSocketInternals {
  _socket?: Duplex;
  _sender?: { _queue?: unknown[] };
}

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/** The WebSockets transport: one hub frame per WebSocket message. */
export class WebSocketHubSocket implements HubSocket {
  readonly transport = 'WebSockets' as const;
  readonly carriesBinary = true;

  constructor(
    readonly ws: WebSocket,
    onError: (error: Error & { code?: string }) => void,
  ) {
    ws.on('error', onError);
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: string | Buffer, binary: boolean): void {
    this.ws.send(frame, binary ? BINARY : TEXT);
  }

  /**
   * Writes the frame, already framed once for every recipient, straight to the TCP socket, as ws itself does for
   * an uncompressed message (permessage-deflate is off): one write of a shared buffer per recipient. When ws has
   * sends queued (it never does without compression), it goes through ws so the order holds.
   */
  sendShared(frame: SharedFrame): void {
    const { _socket: socket, _sender: sender } = this.ws as unknown as WebSocketInternals;
    if (socket && sender?._queue?.length === 0) socket.write(frame.webSocketFrame);
    else this.send(frame.payload, frame.binary);
  }

  close(code: number, reason?: string): void {
    if (this.ws.readyState !== this.ws.OPEN) this.ws.terminate();
    else this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.ws.on('message', (data: RawData, isBinary: boolean) => listener(bufferOf(data), isBinary));
  }

  onClose(listener: () => void): void {
    this.ws.on('close', listener);
  }
}

function bufferOf(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}
