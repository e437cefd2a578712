import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { register } from 'prom-client';
import { TsChild } from '../support/child-process';
import { type GatewayApp, startGatewayApp } from '../support/gateway-app';
import { eventually } from '../support/stream-reader';
import { sleep } from './support';
import type { AttackKind } from './fixtures/hostile-attacker.process';

/*
 * SECURITY.md publishes the most memory one authenticated connection can make a gateway hold, by transport and
 * protocol. This suite checks it: ten connections per kind, in a process of their own, each ask for far more than
 * their bounds (5 MB of replies they never read); once they stalled or were cut, what the gateway (this process)
 * holds after a full garbage collection must stay under ten times the figure.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KB = 1024;
const CONNECTIONS = 10;
/** Each reply is this big: the largest frame a connection is sent here. */
const REPLY_BYTES = 50_000;
/** The gateway's defaults (SECURITY.md): hard bound 1 MiB, message bound 64 KiB, replay buffer 100,000 bytes. */
const HARD = 1024 * KB;
const MESSAGE = 64 * KB;
const REPLAY = 100_000;
/** SECURITY.md's figures: output within the hard bound plus one frame, and one inbound frame (ws takes 4 x). */
const FIGURE = HARD + REPLY_BYTES + 4 * MESSAGE;
const STATEFUL_FIGURE = FIGURE + REPLAY;
/** What a connection costs with nothing queued (its objects, parsers and socket): measured under 40 KB. */
const PER_CONNECTION_OVERHEAD = 64 * KB;

/** Waits until what the gateway holds stops moving (a full GC a few hundred ms apart agrees within 256 KB). */
async function settled(): Promise<void> {
  await eventually(async () => {
    const first = held();
    await sleep(300);
    expect(Math.abs(held() - first)).toBeLessThan(256 * KB);
  }, 20_000);
}

function held(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('the most memory one connection can make a gateway hold (SECURITY.md), by transport and protocol', () => {
  let gw: GatewayApp;
  let attacker: TsChild;

  beforeAll(async () => {
    gw = await startGatewayApp({
      hub: { methods: { Blob: () => 'x'.repeat(REPLY_BYTES) }, longPollTimeoutMs: 60_000 },
      limits: { invocationsPerSecond: 100_000, invocationBurst: 100_000, maxConnectionsPerUser: 100 },
    });
    attacker = new TsChild('test/gateway/fixtures/hostile-attacker.process.ts', {});
    await attacker.next('ready');
  });

  afterAll(async () => {
    await attacker.stop();
    await gw.close();
  });

  it.each<[string, AttackKind, number]>([
    ['WebSockets, JSON', 'ws-json', FIGURE],
    ['WebSockets, MessagePack', 'ws-messagepack', FIGURE],
    ['WebSockets, JSON, stateful reconnect', 'ws-stateful', STATEFUL_FIGURE],
    ['Server-Sent Events, JSON', 'sse-json', FIGURE],
    ['long polling, JSON', 'long-polling-json', FIGURE],
    ['long polling, MessagePack', 'long-polling-messagepack', FIGURE],
  ])('%s: ten hostile connections hold less than their figure each', async (name, kind, figure) => {
    // The last case's connections are gone from the gateway, but their memory may still be on its way out.
    await settled();
    const before = held();
    attacker.send({ cmd: 'attack', kind, hubUrl: gw.hubUrl, connections: CONNECTIONS, calls: 100 });
    expect((await attacker.next('attacked')).error).toBeUndefined();
    // Settled: every reply answered (stalled in a buffer, or dropped with its connection).
    await settled();
    const perConnection = (held() - before) / CONNECTIONS;
    process.stdout.write(`${name}: ${Math.round(perConnection / KB)} KB held per connection\n`);
    expect(perConnection).toBeLessThan(figure + PER_CONNECTION_OVERHEAD);
    attacker.send({ cmd: 'end' });
    await attacker.next('ended');
    await eventually(async () =>
      expect((await register.getSingleMetric('realtime_hub_connections')!.get()).values[0].value).toBe(0),
    );
  });
});
