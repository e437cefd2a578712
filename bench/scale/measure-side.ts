import { cpuMicros, usageFrom, vmRssBytes } from '../support/process-usage';
import { ClientFleet, type LatencyMs } from './client-fleet';
import { runOpenLoop, scheduleMessages, type ScheduledMessage } from './open-loop';
import { using } from './running-resources';
import type { ClientMode, ScaleClient } from './scale-protocol';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** After the last connect, before reading memory: the connect burst's own buffers are not per-connection cost. */
const SETTLE_MS = 1000;
const IDLE_MS = 2000;
/** After the last message is sent: the last deliveries have arrived by then. */
const DRAIN_MS = 2000;
const CONNECT_BATCH = 50;

/** The server process one side measures, and how that side hands it a message. */
export interface MeasuredServer {
  side: 'ours' | 'floor';
  pid: number;
  mode: ClientMode;
  url: string;
  /** Resolves with whether the server took the message (the api's 201; the floor always does). */
  send(message: ScheduledMessage): Promise<boolean> | boolean;
}

export interface LoadOptions {
  rate: number;
  seconds: number;
  warmup: number;
  workers: number;
}

export interface SideResult {
  side: 'ours' | 'floor';
  connections: number;
  connected: number;
  failed: number;
  connectErrors: string[];
  connectMs: number;
  rooms: number;
  rate: number;
  sent: number;
  refused: number;
  /** Deliveries that should have happened: every accepted message to every connected member of its room. */
  expected: number;
  unique: number;
  lost: number;
  duplicates: number;
  malformed: number;
  closedDuringRun: number;
  /** ReceiveMessage records the clients read inside the CPU window. */
  windowDeliveries: number;
  latencyMs: LatencyMs;
  idleCpuPercent: number;
  cpuUsPerDelivery: number;
  wireBytesPerDelivery: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  kbPerConnection: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * One side of one size: connect the clients, read the server's memory, its idle CPU, then post at the rate and
 * take the server's CPU from the first measured message until DRAIN_MS after the last, against the deliveries the
 * clients counted in that window.
 */
export async function measureSide(
  server: MeasuredServer,
  clients: readonly ScaleClient[],
  rooms: readonly string[],
  options: LoadOptions,
): Promise<SideResult> {
  const { pid } = server;
  process.stdout.write(`${server.side}, ${clients.length.toLocaleString('en-US')} connections: connecting ... `);
  const rssBefore = vmRssBytes(pid);
  const fleet = await ClientFleet.connect({
    workers: options.workers,
    mode: server.mode,
    url: server.url,
    clients: [...clients],
    batch: CONNECT_BATCH,
    expectedIntervalMs: (1000 * rooms.length) / options.rate,
  });
  return using(fleet, async () => {
    process.stdout.write(`${fleet.connected.toLocaleString('en-US')} in ${fleet.connectMs} ms, posting ... `);
    await sleep(SETTLE_MS);
    const rssAfter = vmRssBytes(pid);
    // Idle with the clients connected: pings, sweeps, timers. Subtracted from the window's CPU.
    const idleStart = cpuMicros(pid);
    await sleep(IDLE_MS);
    const idleUsPerMs = (cpuMicros(pid) - idleStart) / IDLE_MS;

    const members = connectedMembers(clients, rooms, fleet.failedUsers);
    const messages = scheduleMessages(members, options.rate, options.warmup, options.seconds);
    const accepted = new Map<string, number>();
    let refused = 0;
    let usage: ReturnType<typeof usageFrom> | undefined;
    let windowStart: Promise<number> | undefined;
    await runOpenLoop(
      messages,
      async (message) => {
        if (await server.send(message)) accepted.set(message.room, (accepted.get(message.room) ?? 0) + 1);
        else refused++;
      },
      () => {
        usage = usageFrom(pid);
        windowStart = fleet.delivered();
        // Awaited after the run; a rejection meanwhile must not count as unhandled.
        windowStart.catch(() => undefined);
      },
    );
    await sleep(DRAIN_MS);
    const spent = usage!.stop();
    const windowDeliveries = (await fleet.delivered()) - (await windowStart!);
    const report = await fleet.report();

    let expected = 0;
    for (const [room, count] of accepted) expected += count * members.get(room)!.length;
    const deliveries = Math.max(1, windowDeliveries);
    const result: SideResult = {
      side: server.side,
      connections: clients.length,
      connected: fleet.connected,
      failed: fleet.failedUsers.size,
      connectErrors: fleet.errors,
      connectMs: fleet.connectMs,
      rooms: rooms.length,
      rate: options.rate,
      sent: messages.length,
      refused,
      expected,
      unique: report.unique,
      lost: Math.max(0, expected - report.unique),
      duplicates: report.duplicates,
      malformed: report.malformed,
      closedDuringRun: report.closed,
      windowDeliveries,
      latencyMs: report.latencyMs,
      idleCpuPercent: round(idleUsPerMs / 10, 2),
      cpuUsPerDelivery: round((spent.cpuUs - idleUsPerMs * spent.ms) / deliveries, 3),
      wireBytesPerDelivery: round(spent.bytes / deliveries, 1),
      rssBeforeMiB: round(rssBefore / 2 ** 20, 1),
      rssAfterMiB: round(rssAfter / 2 ** 20, 1),
      kbPerConnection: round((rssAfter - rssBefore) / Math.max(1, fleet.connected) / 1024, 2),
    };
    console.log(
      `p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.cpuUsPerDelivery} µs/delivery, ` +
        `${result.kbPerConnection} KB/connection, failed ${result.failed}, lost ${result.lost}`,
    );
    if (fleet.errors.length > 0) console.log(`  connect errors: ${fleet.errors.slice(0, 5).join('; ')}`);
    return result;
  });
}

/** Per room, its members that connected: the only senders worth using, and who should receive its messages. */
function connectedMembers(
  clients: readonly ScaleClient[],
  rooms: readonly string[],
  failed: ReadonlySet<string>,
): Map<string, string[]> {
  const members = new Map<string, string[]>(rooms.map((room) => [room, []]));
  for (const client of clients) if (!failed.has(client.user)) members.get(client.room)!.push(client.user);
  return members;
}
