import { serviceToken } from '../../test/support/chat-api';
import { runOpenLoop, scheduleMessages } from '../scale/open-loop';
import { using } from '../scale/running-resources';
import { cpuMicros } from '../support/process-usage';
import { Random } from '../support/random';
import { cpuSpent, redisCommandCalls, redisCpuSeconds } from '../support/redis-cpu';
import { checkDeliveries, type DeliveryCheck } from './delivery-check';
import { GatewayFleet } from './gateway-fleet';
import type { GatewayPath, RunningSetup } from './gateway-setups';
import type { GatewayClient } from './gateways-protocol';
import { MessagePoster } from './message-poster';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** After the last connect, before measuring anything: the connect burst's own work is not the steady state's. */
const SETTLE_MS = 1000;
const IDLE_MS = 2000;
/** After the last post settled: the last deliveries have arrived by then. */
const DRAIN_MS = 2000;
const CONNECT_BATCH = 50;

export interface Workload {
  clients: number;
  roomSize: number;
  /** Messages per second over all rooms. */
  rate: number;
  seconds: number;
  warmup: number;
  workers: number;
  /** Seeds the clients' placement on gateways: the same seed places the same clients alike on every path. */
  seed: number;
}

export interface GatewaysResult {
  path: GatewayPath;
  gateways: number;
  clients: number;
  connected: number;
  failed: number;
  connectErrors: string[];
  /** Clients per gateway, as placed. */
  placement: number[];
  rooms: number;
  rate: number;
  seconds: number;
  /** Messages the api accepted (201), warm-up included; `measured`: those of the measured window. */
  accepted: number;
  measured: number;
  refused: number;
  /** Why posts failed (status and body, or the error), with counts. */
  refusals: string[];
  /** ReceiveMessage records the clients read inside the CPU window. */
  windowDeliveries: number;
  /** Sum of every gateway process's CPU time in the window / the deliveries in it. */
  gatewayCpuUsPerDelivery: number;
  /** The same minus what the gateways spend idle with the clients connected (timers, pings, blocked reads). */
  gatewayCpuUsPerDeliveryAboveIdle: number;
  /** The same CPU (total) per message accepted in the window. */
  gatewayCpuUsPerMessage: number;
  /** All gateways together, idle with the clients connected, % of one core. */
  gatewayIdleCpuPercent: number;
  redisCpuUsPerMessage: number;
  /** `XREADGROUP` calls Redis ran in the window (every gateway's reads) per message accepted in it. */
  readsPerMessage: number;
  /** ms from accept to receipt, coordinated-omission corrected, measured messages. */
  latencyMs: { p50: number; p95: number; p99: number; max: number; count: number };
  /** ms from sending the POST to its 201, measured messages. */
  responseMs: { p50: number; p95: number; p99: number };
  check: DeliveryCheck;
  closedDuringRun: number;
  malformed: number;
  warnings: Array<{ line: string; count: number }>;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Clients `g0..`, rooms of `roomSize` consecutive users, each client on a gateway drawn at random (seeded): a room's
 * members land on different gateways as they would behind a load balancer.
 */
export function placeClients(workload: Workload, hubUrls: readonly string[]): GatewayClient[] {
  const random = new Random(workload.seed);
  return Array.from({ length: workload.clients }, (_, i) => {
    const user = `g${i}`;
    const url = hubUrls[Math.floor(random.next() * hubUrls.length)];
    return { user, room: `gr${Math.floor(i / workload.roomSize)}`, token: serviceToken(user), url };
  });
}

/**
 * One path on one gateway count: connect the clients, read the gateways' idle CPU, post at the rate (open loop),
 * and take the gateways' and Redis's CPU from the first measured message until DRAIN_MS after the last, against the
 * deliveries the clients counted in that window; then check every client's receipts by message id.
 */
export async function measureGateways(setup: RunningSetup, workload: Workload): Promise<GatewaysResult> {
  const clients = placeClients(workload, setup.hubUrls);
  const gateways = setup.hubUrls.length;
  const label = `${setup.path}, ${gateways} gateway${gateways === 1 ? '' : 's'}`;
  process.stdout.write(`${label}: connecting ${clients.length} clients ... `);
  const rooms = new Set(clients.map((c) => c.room)).size;
  const fleet = await GatewayFleet.connect({
    workers: workload.workers,
    clients,
    batch: CONNECT_BATCH,
    expectedIntervalMs: (1000 * rooms) / workload.rate,
  });
  return using(fleet, async () => {
    process.stdout.write(`${fleet.connected} in ${fleet.connectMs} ms, posting ... `);
    const gatewayCpu = () => setup.gatewayPids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
    await sleep(SETTLE_MS);
    const idleStart = gatewayCpu();
    await sleep(IDLE_MS);
    const idleUsPerMs = (gatewayCpu() - idleStart) / IDLE_MS;

    const members = new Map<string, string[]>();
    for (const client of clients) {
      const room = members.get(client.room) ?? members.set(client.room, []).get(client.room)!;
      if (!fleet.failedUsers.has(client.user)) room.push(client.user);
    }
    const messages = scheduleMessages(members, workload.rate, workload.warmup, workload.seconds);
    const poster = new MessagePoster(setup.apiUrl);
    try {
      let window: {
        cpuUs: number;
        at: number;
        redis: Promise<Map<number, number>>;
        reads: Promise<number>;
        delivered: Promise<number>;
      };
      await runOpenLoop(
        messages,
        (message) => poster.post(message),
        () => {
          window = {
            cpuUs: gatewayCpu(),
            at: performance.now(),
            redis: redisCpuSeconds([setup.redisPort]),
            reads: redisCommandCalls(setup.redisPort, 'xreadgroup'),
            delivered: fleet.delivered(),
          };
          // Awaited after the run; a rejection meanwhile must not count as unhandled.
          window.redis.catch(() => undefined);
          window.reads.catch(() => undefined);
          window.delivered.catch(() => undefined);
        },
      );
      await sleep(DRAIN_MS);
      const cpuUs = gatewayCpu() - window!.cpuUs;
      const windowMs = performance.now() - window!.at;
      const redisSeconds = cpuSpent(await window!.redis, await redisCpuSeconds([setup.redisPort]), [setup.redisPort]);
      const reads = (await redisCommandCalls(setup.redisPort, 'xreadgroup')) - (await window!.reads);
      const windowDeliveries = (await fleet.delivered()) - (await window!.delivered);
      const report = await fleet.report();
      const responses = poster.responseMs.summary();
      const accepted = [...poster.accepted.values()].reduce((sum, room) => sum + room.length, 0);
      const result: GatewaysResult = {
        path: setup.path,
        gateways,
        clients: clients.length,
        connected: fleet.connected,
        failed: fleet.failedUsers.size,
        connectErrors: fleet.errors,
        placement: setup.hubUrls.map((url) => clients.filter((c) => c.url === url).length),
        rooms,
        rate: workload.rate,
        seconds: workload.seconds,
        accepted,
        measured: poster.acceptedMeasured,
        refused: poster.refused,
        refusals: [...poster.refusals].map(([reason, count]) => `${count} x ${reason}`),
        windowDeliveries,
        gatewayCpuUsPerDelivery: round(cpuUs / Math.max(1, windowDeliveries), 2),
        gatewayCpuUsPerDeliveryAboveIdle: round((cpuUs - idleUsPerMs * windowMs) / Math.max(1, windowDeliveries), 2),
        gatewayCpuUsPerMessage: round(cpuUs / Math.max(1, poster.acceptedMeasured), 1),
        gatewayIdleCpuPercent: round(idleUsPerMs / 10, 2),
        redisCpuUsPerMessage: round((redisSeconds * 1e6) / Math.max(1, poster.acceptedMeasured), 2),
        readsPerMessage: round(reads / Math.max(1, poster.acceptedMeasured), 2),
        latencyMs: report.latencyMs,
        responseMs: { p50: round(responses.p50, 3), p95: round(responses.p95, 3), p99: round(responses.p99, 3) },
        check: checkDeliveries(poster.accepted, report.clients),
        closedDuringRun: report.closed,
        malformed: report.malformed,
        warnings: setup.warnings(),
      };
      const { check } = result;
      console.log(
        `p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.gatewayCpuUsPerDelivery} µs gateway ` +
          `CPU/delivery, lost ${check.lost}, dup ${check.duplicated}, out of order ${check.outOfOrder}`,
      );
      if (fleet.errors.length > 0) console.log(`  connect errors: ${fleet.errors.slice(0, 5).join('; ')}`);
      if (result.refused > 0) console.log(`  posts refused: ${result.refusals.slice(0, 5).join('; ')}`);
      return result;
    } finally {
      await poster.close();
    }
  });
}
