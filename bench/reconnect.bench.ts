/**
 * Stateful-reconnect benchmark: real processes (redis-server, an API, two gateways behind a TCP load balancer that
 * sends each new connection to the first live gateway) and stock @microsoft/signalr clients built with
 * `withStatefulReconnect()`. Messages are posted at a constant rate over several rooms; halfway through, the
 * clients' gateway is restarted (SIGTERM, then started again), so every session is handed over to the other one.
 * Counted per client and message: lost, duplicated, out of order, new connections; latency (accept to receipt)
 * overall and in the seconds after the restart.
 *
 *   npm run bench:reconnect                     500 clients, 500 msg/s over 50 rooms, 20 s
 *   options: --clients 500 --rate 500 --rooms 50 --seconds 20 --crash (kill -9 instead of SIGTERM)
 *
 * Writes bench/results/reconnect.json.
 */
import { randomBytes } from 'node:crypto';
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ChatApi, serviceToken, type StoredMessage } from '../test/support/chat-api';
import { FirstLiveProxy } from '../test/support/first-live-proxy';
import { deliveryReport, GapFillingClient } from '../test/support/gap-filling-client';
import { listAll } from '../test/support/post-steadily';
import { RedisServer } from '../test/support/redis-server';
import { ServiceProcess } from '../test/support/service-process';
import { machine, printTable, writeResult } from './support/report';

const BRIDGE_SECRET = randomBytes(32).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Latency after the restart is reported for this long. */
const RESUME_WINDOW_MS = 3000;

export interface ReconnectOptions {
  clients: string;
  rate: string;
  rooms: string;
  seconds: string;
  crash: boolean;
}

/** The scenario; `npm run bench` runs it after the load sweep (`--no-reconnect` leaves it out). */
export async function runReconnectBench(values: ReconnectOptions): Promise<void> {
  const clientCount = Number(values.clients);
  const rate = Number(values.rate);
  const roomCount = Number(values.rooms);
  const seconds = Number(values.seconds);
  const rooms = Array.from({ length: roomCount }, (_, i) => `bench-room-${i}`);

  // The stock client can throw from a timer when this process is too busy to keep up (its server timeout fires while
  // a resume is in flight): counted and reported, so an overloaded run says so instead of dying.
  let clientErrors = 0;
  const onClientError = (error: Error) => {
    clientErrors++;
    if (clientErrors <= 3) console.warn(`client error: ${error.message}`);
  };
  process.on('uncaughtException', onClientError);
  const redis = await RedisServer.start();
  const gatewayEnv = (id: string) => ({
    REDIS_URL: redis.url,
    REALTIME_ROLE: 'gateway',
    REALTIME_INSTANCE_ID: id,
    REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    REALTIME_MAX_CONNECTIONS_PER_USER: '1000',
  });
  const gateways = [await ServiceProcess.start(gatewayEnv('gw-1')), await ServiceProcess.start(gatewayEnv('gw-2'))];
  const api = await ServiceProcess.start({
    REDIS_URL: redis.url,
    REALTIME_ROLE: 'api',
    REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
  });
  const proxy = await FirstLiveProxy.start(gateways.map((g) => g.port));
  const hubUrl = proxy.url + new URL(gateways[0].hubUrl).pathname;
  const clients: GapFillingClient[] = [];
  const received: Array<{ at: number; latencyMs: number }> = [];
  try {
    for (let i = 0; i < clientCount; i++) {
      const room = rooms[i % roomCount];
      const user = `bench-user-${i}`;
      const client = new GapFillingClient(hubUrl, serviceToken(user), room, new ChatApi(api.baseUrl, user), 200, true);
      client.client.connection.on('ReceiveMessage', (message: StoredMessage) => {
        const at = Date.now();
        received.push({ at, latencyMs: at - message.acceptedAt });
      });
      clients.push(await client.start());
    }
    console.log(`${clientCount} clients connected through the load balancer; posting ${rate} msg/s for ${seconds} s`);

    const posters = rooms.map((room) => new ChatApi(api.baseUrl, `poster-${room}`));
    const total = rate * seconds;
    const started = Date.now();
    const posts: Array<Promise<unknown>> = [];
    let restartedAt = 0;
    let resumedInMs = 0;
    const restart = (async () => {
      await sleep((seconds * 1000) / 2);
      restartedAt = Date.now();
      if (values.crash) await gateways[0].kill();
      else await gateways[0].stop();
      resumedInMs = Date.now() - restartedAt;
      await gateways[0].start();
    })();
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      posts.push(posters[n % roomCount].post(rooms[n % roomCount], `#${n}`).catch(() => undefined));
    }
    await Promise.all(posts);
    await restart;
    const stored = new Map<string, StoredMessage[]>();
    for (const room of rooms) stored.set(room, await listAll(posters[0], room));
    // Until every client shows every message of its room, or 30 s without progress.
    let last = -1;
    for (let idle = 0; idle < 30;) {
      await Promise.all(clients.map((c) => c.settled()));
      const shown = clients.reduce((sum, c) => sum + c.shown.length, 0);
      const expected = clients.reduce((sum, _, i) => sum + stored.get(rooms[i % roomCount])!.length, 0);
      if (shown >= expected) break;
      idle = shown === last ? idle + 1 : 0;
      last = shown;
      await sleep(1000);
    }
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    let newConnections = 0;
    clients.forEach((client, i) => {
      const report = deliveryReport(stored.get(rooms[i % roomCount])!, client.shown);
      lost += report.lost;
      duplicated += report.duplicated + client.liveDuplicates;
      outOfOrder += report.outOfOrder;
      newConnections += client.reconnects;
    });
    let resumed = 0;
    for (const gateway of gateways) {
      const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
      resumed += Number(/realtime_hub_sessions_resumed_total\{instance="other"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    }
    const all = received.map((r) => r.latencyMs);
    const during = received
      .filter((r) => r.at >= restartedAt && r.at < restartedAt + RESUME_WINDOW_MS)
      .map((r) => r.latencyMs);
    const row = {
      fault: values.crash ? 'kill -9' : 'SIGTERM',
      clients: clientCount,
      'msg/s': rate,
      accepted: [...stored.values()].reduce((sum, list) => sum + list.length, 0),
      lost,
      duplicated,
      outOfOrder,
      'resumed elsewhere': resumed,
      'new connections': newConnections,
      'p50 ms': percentile(all, 50),
      'p99 ms': percentile(all, 99),
      'p99 ms after restart': percentile(during, 99),
      'max ms after restart': Math.max(0, ...during),
      'gateway gone in ms': resumedInMs,
      'client errors': clientErrors,
    };
    printTable([row]);
    const file = writeResult('reconnect', {
      machine: machine(),
      options: values,
      result: row,
      at: new Date().toISOString(),
    });
    console.log(`written ${file}`);
  } finally {
    process.off('uncaughtException', onClientError);
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    await proxy.close();
    for (const gateway of gateways) await gateway.dispose();
    await api.dispose();
    await redis.dispose();
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '500' },
      rate: { type: 'string', default: '500' },
      rooms: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '20' },
      crash: { type: 'boolean', default: false },
    },
  });
  runReconnectBench(values).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
