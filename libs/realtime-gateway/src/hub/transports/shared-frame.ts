import { eventStreamEvent } from './event-stream-event';

/**
 * One encoded message that many connections receive: its hub-protocol bytes, and (built once, on first use) the
 * same bytes as a complete WebSocket frame, so each WebSocket recipient costs one socket write of a buffer shared
 * by all, not a framing of its own.
 */
export class SharedFrame {
  private framed?: Buffer;
  private event?: Buffer;

  constructor(
    readonly payload: Buffer,
    /** Binary protocol (MessagePack): a binary WebSocket frame; text otherwise. */
    readonly binary: boolean,
  ) {}

  /** The same bytes as a Server-Sent Events event (built once, on first use). */
  get eventStreamEvent(): Buffer {
    return (this.event ??= eventStreamEvent(this.payload));
  }

  /** A final, unmasked server frame (RFC 6455 5.2): opcode, payload length in 7, 16 or 64 bits, payload. */
  get webSocketFrame(): Buffer {
    if (this.framed) return this.framed;
    const length = this.payload.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + length);
    frame[0] = 0x80 | (this.binary ? 0x02 : 0x01);
    if (length < 126) frame[1] = length;
    else if (length < 65_536) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    this.payload.copy(frame, headerLength);
    return (this.framed = frame);
  }
}
