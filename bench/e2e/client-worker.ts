/**
 * A worker process of the e2e bench: hosts many stock @microsoft/signalr clients, each in one room, and records
 * what they receive. Latency is from the message's `acceptedAt` (the API's clock) to this process receiving it:
 * both are epoch ms from `performance.timeOrigin + performance.now()`, consistent across processes of one machine.
 */
import { HubConnection, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import * as hdr from 'hdr-histogram-js';
import type { ClientReport, ClientSpec, WorkerCommand, WorkerMessage } from './protocol';
import { parseMessageText } from './protocol';

const HIGHEST_US = 120_000_000;
const corrected = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: HIGHEST_US,
  numberOfSignificantValueDigits: 3,
});
const raw = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: HIGHEST_US,
  numberOfSignificantValueDigits: 3,
});
const connections: HubConnection[] = [];
const reports: ClientReport[] = [];
let expectedIntervalUs = 0;

const send = (message: WorkerMessage) => process.send!(message);
const now = () => performance.timeOrigin + performance.now();

interface Received {
  userId: string;
  text: string;
  acceptedAt: number;
}

async function connectOne(hubUrl: string, spec: ClientSpec, protocol: 'json' | 'messagepack'): Promise<void> {
  let builder = new HubConnectionBuilder()
    .withUrl(spec.hubUrl ?? hubUrl, { accessTokenFactory: () => spec.token })
    .configureLogging(LogLevel.None);
  if (protocol === 'messagepack') builder = builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const report: ClientReport = { user: spec.user, room: spec.room, received: {}, typingEvents: 0 };
  connection.on('ReceiveMessage', (message: Received) => {
    const at = now();
    const parsed = parseMessageText(message.text);
    if (!parsed) return;
    (report.received[parsed.sender] ??= []).push(parsed.seq);
    if (!parsed.measured) return;
    const us = Math.max(1, Math.round((at - message.acceptedAt) * 1000));
    raw.recordValue(Math.min(us, HIGHEST_US));
    // Coordinated omission: a stall that delays one message also delays the ones that should have come meanwhile.
    corrected.recordValueWithExpectedInterval(Math.min(us, HIGHEST_US), expectedIntervalUs);
  });
  connection.on('UserTyping', () => {
    report.typingEvents++;
  });
  await connection.start();
  await connection.invoke('JoinRoom', spec.room);
  connections.push(connection);
  reports.push(report);
}

async function connectAll(hubUrl: string, clients: ClientSpec[], protocol: 'json' | 'messagepack'): Promise<void> {
  const started = now();
  let failed = 0;
  // A few at a time: a thousand simultaneous negotiates would measure the connect storm, not the steady state.
  for (let i = 0; i < clients.length; i += 20) {
    const results = await Promise.allSettled(
      clients.slice(i, i + 20).map((spec) => connectOne(hubUrl, spec, protocol)),
    );
    failed += results.filter((r) => r.status === 'rejected').length;
  }
  send({ event: 'connected', clients: connections.length, failed, ms: Math.round(now() - started) });
}

process.on('message', (command: WorkerCommand) => {
  void (async () => {
    try {
      if (command.cmd === 'connect') {
        expectedIntervalUs = Math.round(command.expectedIntervalMs * 1000);
        await connectAll(command.hubUrl, command.clients, command.protocol);
      } else if (command.cmd === 'report') {
        send({
          event: 'report',
          histogram: hdr.encodeIntoCompressedBase64(corrected),
          rawHistogram: hdr.encodeIntoCompressedBase64(raw),
          clients: reports,
        });
      } else {
        await Promise.allSettled(connections.map((c) => c.stop()));
        process.exit(0);
      }
    } catch (error) {
      send({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
