/**
 * A client worker of the scale bench: thousands of raw `ws` sockets, each in one room, recording what they receive.
 * Against the gateway they speak the SignalR JSON hub protocol by hand (handshake, `JoinRoom`, pings) instead of
 * running @microsoft/signalr: a stock client costs more CPU than the server spends on it, and 15,000 of them would
 * make the 2-core machine measure its clients. Against the floor server they only connect.
 *
 * Latency is from the message's `acceptedAt` (API or orchestrator clock) to this process reading the frame: both
 * epoch ms from `performance.timeOrigin + performance.now()`, consistent across processes of one machine.
 */
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { parseMessageText } from '../e2e/protocol';
import { deliveryOf, HANDSHAKE, JOIN_INVOCATION_ID, joinRoomRecord, PING, RECEIVE_MESSAGE, RS } from './hub-records';
import type { ClientMode, ScaleClient, WorkerCommand, WorkerCounts, WorkerEvent } from './scale-protocol';

const HIGHEST_US = 120_000_000;
const CONNECT_TIMEOUT_MS = 20_000;
/** The gateway closes a client silent for 30 s. */
const PING_EVERY_MS = 10_000;
/**
 * Each tick pings another hundredth of the sockets: a steady trickle, so the server's idle CPU (measured over 2 s)
 * holds the same share of pings as the posting window, where a burst every 10 s would land in one or the other.
 */
const PING_TICK_MS = 100;

const latency = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: HIGHEST_US,
  numberOfSignificantValueDigits: 3,
});
const sockets: WebSocket[] = [];
const counts: WorkerCounts = { delivered: 0, unique: 0, duplicates: 0, malformed: 0, closed: 0 };
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

/** A ReceiveMessage (or anything else) a ready client got; `received` is that client's texts so far. */
function onRecord(record: string, at: number, received: Set<string>): void {
  if (!record.includes(RECEIVE_MESSAGE)) return;
  const delivery = deliveryOf(record);
  if (!delivery) {
    counts.malformed++;
    return;
  }
  counts.delivered++;
  // A text names its sender and per-sender sequence number: seen twice by one client is a duplicate.
  if (received.has(delivery.text)) counts.duplicates++;
  else {
    received.add(delivery.text);
    counts.unique++;
  }
  if (!parseMessageText(delivery.text)?.measured) return;
  const us = Math.min(HIGHEST_US, Math.max(1, Math.round((at - delivery.acceptedAt) * 1000)));
  // Coordinated omission: a stall that delays one message also delays the ones that should have come meanwhile.
  latency.recordValueWithExpectedInterval(us, expectedIntervalUs);
}

/** Opens one socket; in `hub` mode resolves after the handshake and the `JoinRoom` completion. */
function connectOne(url: string, client: ScaleClient, mode: ClientMode): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: mode === 'hub' ? { authorization: `Bearer ${client.token}` } : undefined,
      perMessageDeflate: false,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
    });
    const received = new Set<string>();
    let state: 'opening' | 'handshake' | 'joining' | 'ready' | 'failed' = 'opening';
    const fail = (reason: string) => {
      if (state === 'ready' || state === 'failed') return;
      state = 'failed';
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail(`not ready in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    const ready = () => {
      state = 'ready';
      clearTimeout(timer);
      resolve(socket);
    };
    socket.on('open', () => {
      if (mode === 'floor') return ready();
      state = 'handshake';
      socket.send(HANDSHAKE);
    });
    socket.on('message', (data: Buffer) => {
      const at = now();
      const frame = data.toString();
      for (let start = 0, end = frame.indexOf(RS); end !== -1; start = end + 1, end = frame.indexOf(RS, start)) {
        const record = frame.slice(start, end);
        if (state === 'ready') onRecord(record, at, received);
        else if (state === 'handshake') {
          if (record !== '{}') return fail(`handshake refused: ${record}`);
          state = 'joining';
          socket.send(joinRoomRecord(client.room));
        } else if (state === 'joining') {
          const parsed = JSON.parse(record) as { type?: number; invocationId?: string; error?: string };
          if (parsed.type !== 3 || parsed.invocationId !== JOIN_INVOCATION_ID) continue;
          if (parsed.error) return fail(`JoinRoom failed: ${parsed.error}`);
          ready();
        }
      }
    });
    socket.on('error', (error) => fail(error.message));
    socket.on('close', (code, reason) => {
      if (state === 'ready') counts.closed++;
      else fail(`closed (${code}) ${reason.toString()}`);
    });
  });
}

async function connectAll(command: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const started = now();
  expectedIntervalUs = Math.round(command.expectedIntervalMs * 1000);
  const failed: string[] = [];
  const errors = new Map<string, number>();
  const urlOf = (client: ScaleClient) =>
    command.mode === 'hub' ? command.url : `${command.url}/?room=${encodeURIComponent(client.room)}`;
  // A batch at a time: the steady state is what the bench measures, not how a server takes a connect storm.
  for (let i = 0; i < command.clients.length; i += command.batch) {
    const batch = command.clients.slice(i, i + command.batch);
    const results = await Promise.allSettled(batch.map((client) => connectOne(urlOf(client), client, command.mode)));
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
      else if (command.cmd === 'count') send({ event: 'count', delivered: counts.delivered });
      else if (command.cmd === 'report')
        send({ event: 'report', histogram: hdr.encodeIntoCompressedBase64(latency), ...counts });
      else {
        for (const socket of sockets) socket.terminate();
        process.exit(0);
      }
    } catch (error) {
      send({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
