/**
 * A client worker of the many-gateway bench: raw `ws` sockets speaking the SignalR JSON hub protocol by hand
 * (handshake, `JoinRoom`, pings; as bench/scale's workers, so the 2-core box measures the servers, not stock
 * clients), each connected to its own gateway, recording per client the id of every message it receives in arrival
 * order (the orchestrator checks them against what the api accepted) and the latency of measured messages.
 *
 * Latency is from the message's `acceptedAt` (the api's clock) to this process reading the frame: both epoch ms
 * from `performance.timeOrigin + performance.now()`, consistent across the processes of one machine.
 */
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { parseMessageText } from '../e2e/protocol';
import {
  deliveryOf,
  HANDSHAKE,
  JOIN_INVOCATION_ID,
  joinRoomRecord,
  PING,
  RECEIVE_MESSAGE,
  RS,
} from '../scale/hub-records';
import type { ClientReceipts, GatewayClient, WorkerCommand, WorkerEvent } from './gateways-protocol';

const HIGHEST_US = 120_000_000;
const CONNECT_TIMEOUT_MS = 20_000;
/** The gateway closes a client silent for 30 s; each tick pings another tenth of the sockets. */
const PING_EVERY_MS = 10_000;
const PING_TICK_MS = 1000;
const ID = '"id":"';

const latency = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: HIGHEST_US,
  numberOfSignificantValueDigits: 3,
});
const sockets: WebSocket[] = [];
const receipts: ClientReceipts[] = [];
let delivered = 0;
let malformed = 0;
let closed = 0;
let expectedIntervalUs = 0;

const now = () => performance.timeOrigin + performance.now();
const send = (event: WorkerEvent) => process.send!(event);

let tick = 0;
setInterval(() => {
  const slots = PING_EVERY_MS / PING_TICK_MS;
  for (let i = tick % slots; i < sockets.length; i += slots) {
    if (sockets[i].readyState === WebSocket.OPEN) sockets[i].send(PING);
  }
  tick++;
}, PING_TICK_MS);

/** The id of a ReceiveMessage record (the message's first `"id"`; `roomId` and `userId` do not match it). */
function idOf(record: string): string | undefined {
  const start = record.indexOf(ID);
  if (start === -1) return undefined;
  const end = record.indexOf('"', start + ID.length);
  return end === -1 ? undefined : record.slice(start + ID.length, end);
}

function onRecord(record: string, at: number, receipt: ClientReceipts): void {
  if (!record.includes(RECEIVE_MESSAGE)) return;
  const delivery = deliveryOf(record);
  const id = idOf(record);
  if (!delivery || !id) {
    malformed++;
    return;
  }
  delivered++;
  receipt.ids.push(id);
  if (!parseMessageText(delivery.text)?.measured) return;
  const us = Math.min(HIGHEST_US, Math.max(1, Math.round((at - delivery.acceptedAt) * 1000)));
  // Coordinated omission: a stall that delays one message also delays the ones that should have come meanwhile.
  latency.recordValueWithExpectedInterval(us, expectedIntervalUs);
}

/** Opens one socket; resolves after the handshake and the `JoinRoom` completion. */
function connectOne(client: GatewayClient): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(client.url, {
      headers: { authorization: `Bearer ${client.token}` },
      perMessageDeflate: false,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
    });
    const receipt: ClientReceipts = { user: client.user, room: client.room, ids: [] };
    let state: 'opening' | 'handshake' | 'joining' | 'ready' | 'failed' = 'opening';
    const fail = (reason: string) => {
      if (state === 'ready' || state === 'failed') return;
      state = 'failed';
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail(`not ready in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    socket.on('open', () => {
      state = 'handshake';
      socket.send(HANDSHAKE);
    });
    socket.on('message', (data: Buffer) => {
      const at = now();
      const frame = data.toString();
      for (let start = 0, end = frame.indexOf(RS); end !== -1; start = end + 1, end = frame.indexOf(RS, start)) {
        const record = frame.slice(start, end);
        if (state === 'ready') onRecord(record, at, receipt);
        else if (state === 'handshake') {
          if (record !== '{}') return fail(`handshake refused: ${record}`);
          state = 'joining';
          socket.send(joinRoomRecord(client.room));
        } else if (state === 'joining') {
          const parsed = JSON.parse(record) as { type?: number; invocationId?: string; error?: string };
          if (parsed.type !== 3 || parsed.invocationId !== JOIN_INVOCATION_ID) continue;
          if (parsed.error) return fail(`JoinRoom failed: ${parsed.error}`);
          state = 'ready';
          clearTimeout(timer);
          receipts.push(receipt);
          resolve(socket);
        }
      }
    });
    socket.on('error', (error) => fail(error.message));
    socket.on('close', (code, reason) => {
      if (state === 'ready') closed++;
      else fail(`closed (${code}) ${reason.toString()}`);
    });
  });
}

async function connectAll(command: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const started = now();
  expectedIntervalUs = Math.round(command.expectedIntervalMs * 1000);
  const failed: string[] = [];
  const errors = new Map<string, number>();
  // A batch at a time: the steady state is what the bench measures, not how the gateways take a connect storm.
  for (let i = 0; i < command.clients.length; i += command.batch) {
    const batch = command.clients.slice(i, i + command.batch);
    const results = await Promise.allSettled(batch.map((client) => connectOne(client)));
    results.forEach((result, k) => {
      if (result.status === 'fulfilled') return void sockets.push(result.value);
      failed.push(batch[k].user);
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      errors.set(reason, (errors.get(reason) ?? 0) + 1);
    });
  }
  send({
    event: 'connected',
    connected: sockets.length,
    failed,
    errors: [...errors].map(([reason, count]) => `${count} x ${reason}`),
    ms: Math.round(now() - started),
  });
}

// The orchestrator gone (killed, crashed), nobody would ever close this worker.
process.on('disconnect', () => process.exit(0));

process.on('message', (command: WorkerCommand) => {
  void (async () => {
    try {
      if (command.cmd === 'connect') await connectAll(command);
      else if (command.cmd === 'count') send({ event: 'count', delivered });
      else if (command.cmd === 'report')
        send({
          event: 'report',
          histogram: hdr.encodeIntoCompressedBase64(latency),
          clients: receipts,
          malformed,
          closed,
        });
      else {
        for (const socket of sockets) socket.terminate();
        process.exit(0);
      }
    } catch (error) {
      send({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
