/**
 * The floor of the scale bench: the least a Node process can do to fan a chat message out to a room of WebSocket
 * clients, to hold the gateway's cost against. A plain `ws` server keeps a set of sockets per room (the room is in
 * the URL: no auth, no handshake, no groups); for each message the orchestrator sends over IPC it builds the JSON
 * hub protocol's ReceiveMessage record once, frames it once, and writes that same buffer to every socket of the
 * room, below `ws`'s send path. Whatever a gateway spends above this is what its features cost.
 */
import WebSocket, { WebSocketServer } from 'ws';
import { freePort } from '../../test/support/free-port';
import { receiveMessageRecord } from './hub-records';
import type { FloorCommand, FloorEvent } from './scale-protocol';

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}

/** ws's framing, which @types/ws does not declare. */
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const TEXT_OPCODE = 1;

const rooms = new Map<string, Set<WebSocket>>();
const send = (event: FloorEvent) => process.send!(event);

/** One unmasked text frame (header and payload in one buffer), as a server sends it. */
function textFrame(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), {
    fin: true,
    rsv1: false,
    opcode: TEXT_OPCODE,
    mask: false,
    readOnly: false,
  });
  return Buffer.concat(parts);
}

function deliver(room: string, payload: string): void {
  const members = rooms.get(room);
  if (!members) return;
  const frame = textFrame(receiveMessageRecord(payload));
  for (const socket of members) {
    if (socket.readyState === WebSocket.OPEN) (socket as any)._socket.write(frame);
  }
}

async function listen(): Promise<WebSocketServer> {
  const port = await freePort();
  const server = new WebSocketServer({ host: '127.0.0.1', port, clientTracking: false, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('connection', (socket, request) => {
    const room = new URL(request.url ?? '/', 'ws://floor').searchParams.get('room') ?? '';
    const members = rooms.get(room) ?? rooms.set(room, new Set()).get(room)!;
    members.add(socket);
    socket.on('close', () => members.delete(socket));
    // A client reset is the socket's end, nothing this process should die of.
    socket.on('error', () => socket.terminate());
  });
  send({ event: 'listening', port });
  return server;
}

process.on('disconnect', () => process.exit(0));

process.on('message', (command: FloorCommand) => {
  if (command.cmd === 'deliver') deliver(command.room, command.payload);
  else process.exit(0);
});

listen().catch((error: unknown) => {
  send({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
