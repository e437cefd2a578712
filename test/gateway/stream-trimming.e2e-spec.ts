import { MISSED_ENTRIES_REASON } from '@realtime-streams/gateway/testing';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { RealtimeEvent, RealtimeTransportModule, toGroup } from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import { sequenceKeyOf, streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { type ChildMessage, TsChild } from '../support/child-process';
import { RedisServer } from '../support/redis-server';
import { publishSteadily } from '../support/steady-publisher';
import { eventually } from '../support/stream-reader';
import { RecoveringClient } from './recovering-client';

@RealtimeEvent({ method: 'ReceiveMessage', type: 'chat.message.created', to: () => toGroup('room:1') })
class Posted {
  constructor(readonly seq: number) {}
}

const CLIENTS = 4;
const RATE = 100;
const KEY = streamKey('realtime', 0);

interface GatewayState extends ChildMessage {
  gapEntries: number;
  gapDisconnects: number;
  consumerGaps: number;
  received: number;
  duplicates: number;
  forNobody: number;
  lag: number;
  health: { status: string; consumer: string; lag: number | null };
}

/**
 * Finding: a gateway paused 6 s with MAXLEN 50 while 600 messages were posted lost 549 for every client, told
 * nobody, and reported "up"; the trimmed-unread metric undercounted and the lag stayed at the lost count. Here the
 * gateway is a child process paused with SIGSTOP, the publisher is the real one, the clients are stock clients
 * that re-join and fill the gap from the list of what was published when the gateway closes them reconnectably.
 */
describe('stream trimming past a stalled gateway (real redis-server, gateway process paused with SIGSTOP)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gateway: TsChild;
  let publisher: TestingModule | undefined;
  let clients: RecoveringClient[] = [];
  const stored: number[] = [];

  const state = async (): Promise<GatewayState> => {
    gateway.send({ cmd: 'state' });
    return (await gateway.next('state')) as GatewayState;
  };

  const bootPublisher = async (maxLen: number) => {
    register.clear();
    publisher = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ redis: { url: redis.url, maxLen } })],
    }).compile();
    await publisher.init();
    return publisher.get(EventBus);
  };

  /** Publishes `total` numbered messages at RATE/s, the gateway paused from `pauseAtMs` for `pauseMs`. */
  const publishWithPause = async (bus: EventBus, total: number, pauseAtMs: number, pauseMs: number) => {
    const pause = setTimeout(() => gateway.signal('SIGSTOP'), pauseAtMs);
    const resume = setTimeout(() => gateway.signal('SIGCONT'), pauseAtMs + pauseMs);
    await publishSteadily(total, RATE, (seq) => {
      // What the application stores before it publishes: where a client's gap fill reads from.
      stored.push(seq);
      bus.publish(new Posted(seq));
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pauseAtMs + pauseMs - (total / RATE) * 1000) + 100));
    clearTimeout(pause);
    clearTimeout(resume);
    gateway.signal('SIGCONT');
    await publisher!.get(FallbackChain).whenIdle();
  };

  beforeEach(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    // Small stream nodes, so `MAXLEN ~ 50` trims close to 50 (Redis trims whole nodes only).
    await admin.config('SET', 'stream-node-max-entries', '10');
    gateway = new TsChild('test/gateway/fixtures/stream-gateway.process.ts', {
      REDIS_URL: redis.url,
      REALTIME_INSTANCE_ID: 'stalled',
      REALTIME_CONSUMER_BLOCK_MS: '500',
    });
    const { hubUrl } = await gateway.next('ready');
    stored.length = 0;
    clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        new RecoveringClient(hubUrl as string, `user-${i}`, 'room:1', () => stored).start(),
      ),
    );
  });

  afterEach(async () => {
    gateway.signal('SIGCONT');
    await publisher?.close();
    publisher = undefined;
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    await gateway.stop();
    admin.disconnect();
    await redis.dispose();
  });

  it('past the count bound: every message delivered live or recovered after a reconnectable close, the gap counted exactly', async () => {
    const total = 900;
    const bus = await bootPublisher(50);
    await publishWithPause(bus, total, 1000, 6000);

    await eventually(async () => {
      for (const client of clients) {
        await client.settled();
        expect(client.missing(total)).toEqual([]);
      }
    }, 20_000);
    const counter = Number(await admin.get(sequenceKeyOf(KEY)));
    expect(counter).toBe(total);
    // Lag and health settle to the truth: nothing left to read, consumer reading again.
    await eventually(async () => {
      const settled = await state();
      expect(settled.lag).toBe(0);
      expect(settled.health).toMatchObject({ status: 'up', consumer: 'running', lag: 0 });
    }, 10_000);

    const after = await state();
    // Every entry the gateway read: parsed (received, less duplicates) or skipped while its room had no client here.
    const readByGateway = after.received - after.duplicates + after.forNobody;
    const live = clients.map((c) => new Set(c.live).size);
    const filled = clients.map((c) => c.filled.length);
    // eslint-disable-next-line no-console
    console.log(
      `gateway paused 6 s, MAXLEN 50, ${total} published: gateway read ${readByGateway}, gap metric ` +
        `${after.gapEntries} (counter - read = ${counter - readByGateway}), closes ${after.gapDisconnects}; ` +
        `per client live ${live.join('/')}, gap-filled ${filled.join('/')}, lost 0, live duplicates ` +
        `${clients.map((c) => c.liveDuplicates).join('/')}`,
    );
    // The bound bit: most of what was published during the pause was trimmed before the gateway read it.
    expect(after.gapEntries).toBeGreaterThan(300);
    // Exactly what the stream's counter says the gateway did not read.
    expect(after.gapEntries).toBe(counter - readByGateway);
    for (const client of clients) {
      expect(client.liveDuplicates).toBe(0);
      expect(client.closes.length).toBeGreaterThanOrEqual(1);
      expect(client.closes[0]).toContain(MISSED_ENTRIES_REASON);
    }
    expect(after.gapDisconnects).toBeGreaterThanOrEqual(CLIENTS);
  });

  it('paused for less than the retention with a large count bound: loses nothing, tells nobody', async () => {
    const total = 400;
    const bus = await bootPublisher(100_000);
    await publishWithPause(bus, total, 500, 3000);

    await eventually(() => {
      for (const client of clients) expect(client.missing(total)).toEqual([]);
    }, 20_000);
    const after = await state();
    // eslint-disable-next-line no-console
    console.log(
      `gateway paused 3 s, retention 10 min, MAXLEN 100000, ${total} published: gap metric ${after.gapEntries}, ` +
        `closes ${after.gapDisconnects}, live per client ${clients.map((c) => new Set(c.live).size).join('/')}`,
    );
    expect(after).toMatchObject({ gapEntries: 0, gapDisconnects: 0, consumerGaps: 0 });
    for (const client of clients) {
      expect(client.filled).toEqual([]);
      expect(client.closes).toEqual([]);
      expect(client.liveDuplicates).toBe(0);
      expect(client.live).toEqual([...Array(total).keys()]);
    }
    await eventually(async () => expect((await state()).health).toMatchObject({ status: 'up', lag: 0 }), 10_000);
  });
});
