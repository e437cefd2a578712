import type { SharedFrame } from './shared-frame';

/** The transports a client may use; the names are the ones negotiate lists. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/**
 * A client's connection on one transport, as the hub sees it: frames out, frames in, how much is waiting, and
 * the two ways to end. WebSockets, Server-Sent Events and long polling each implement it.
 */
export interface HubSocket {
  readonly transport: TransportName;
  /** Frames can still be sent. */
  readonly isOpen: boolean;
  /** Bytes written that the client has not taken yet: the slow-client bounds measure this. */
  readonly bufferedBytes: number;
  /** Whether binary frames can be carried (SSE: text only). */
  readonly carriesBinary: boolean;
  /** Sends one frame, as a binary message when `binary` (WebSockets). */
  send(frame: string | Buffer, binary: boolean): void;
  /** Sends a frame many connections receive (a delivery), as cheaply as the transport allows. */
  sendShared(frame: SharedFrame): void;
  /** Ends the connection once what was sent is delivered. */
  close(code: number, reason?: string): void;
  /** Drops the connection now, with what is still waiting. */
  terminate(): void;
  /** A frame from the client (`binary`: a WebSocket binary message or an octet-stream body). */
  onMessage(listener: (data: Buffer, binary: boolean) => void): void;
  /** The connection is over, whoever ended it; called once. */
  onClose(listener: () => void): void;
}
