import type { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { SharedFrame } from './shared-frame';

// ws exports its frame parser at runtime (`WebSocket.Receiver`); its type definitions leave it out.
const Receiver = (
  WebSocket as unknown as {
    Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(bytes: Buffer): void };
  }
).Receiver;

/** What ws's own receiver (the client side of a `ws` connection) reads from frame bytes. */
function received(bytes: Buffer): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, binary: boolean) => resolve({ data, binary }));
    receiver.on('error', reject);
    receiver.write(bytes);
  });
}

describe('SharedFrame', () => {
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 200_000])(
    'frames a payload of %i bytes as ws reads it, once',
    async (length) => {
      const payload = Buffer.alloc(length, 'x');
      const text = new SharedFrame(payload, false);
      expect(await received(text.webSocketFrame)).toEqual({ data: payload, binary: false });
      expect(text.webSocketFrame).toBe(text.webSocketFrame);
      expect(await received(new SharedFrame(payload, true).webSocketFrame)).toEqual({ data: payload, binary: true });
    },
  );

  it('builds its Server-Sent Events event once: one data line, or one per line of the frame', () => {
    const frame = new SharedFrame(Buffer.from('{"type":1}\u001e'), false);
    expect(frame.eventStreamEvent.toString()).toBe('data: {"type":1}\u001e\r\n\r\n');
    expect(frame.eventStreamEvent).toBe(frame.eventStreamEvent);
    expect(new SharedFrame(Buffer.from('a\nb\r\nc'), false).eventStreamEvent.toString()).toBe(
      'data: a\r\ndata: b\r\ndata: c\r\n\r\n',
    );
  });
});
