import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SharedFrame } from './shared-frame';
import { WebSocketHubSocket } from './websocket-hub-socket';

/**
 * `sendShared` writes a frame built once straight to ws's TCP socket, through two private fields of ws (`_socket`,
 * `_sender._queue`). The package pins ws to the exact version this was checked with; this test is what fails when an
 * upgrade changes that shape, before the fast path silently stops being taken (it falls back to `ws.send`).
 */
describe('WebSocketHubSocket shared frames (ws internals)', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let socket: WebSocketHubSocket;

  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [ws] = (await accepted) as [WebSocket];
    socket = new WebSocketHubSocket(ws, () => undefined);
    await once(client, 'open');
  });

  afterAll(async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('finds the private shape it relies on in the pinned ws', () => {
    const internals = socket.ws as unknown as { _socket?: { write?: unknown }; _sender?: { _queue?: unknown } };
    expect(typeof internals._socket?.write).toBe('function');
    expect(Array.isArray(internals._sender?._queue)).toBe(true);
    expect(internals._sender!._queue).toHaveLength(0);
  });

  it('writes the shared frame to the TCP socket itself, and the client reads it as one message', async () => {
    const internals = socket.ws as unknown as { _socket: { write: (chunk: Buffer) => boolean } };
    const write = jest.spyOn(internals._socket, 'write');
    const send = jest.spyOn(socket.ws, 'send');
    const received = once(client, 'message');
    const frame = new SharedFrame(Buffer.from('{"type":1,"target":"M","arguments":[]}\x1e'), false);
    socket.sendShared(frame);
    const [data, binary] = (await received) as [Buffer, boolean];
    expect(String(data)).toBe('{"type":1,"target":"M","arguments":[]}\x1e');
    expect(binary).toBe(false);
    expect(write).toHaveBeenCalledWith(frame.webSocketFrame);
    expect(send).not.toHaveBeenCalled();
  });
});
