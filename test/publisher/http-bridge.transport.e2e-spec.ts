import { TransportDisconnectedError, TransportPublishError } from '@realtime-streams/transport';
import {
  type GaveUpReportOutcome,
  type OutboundEnvelope,
  type HttpBridgeLaneMetrics,
  type HttpBridgeMetrics,
  type LaneDropReason,
  HttpBridgeTransport,
  type HttpBridgeTransportSettings,
} from '@realtime-streams/transport/testing';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { BridgeReceiver } from '../support/bridge-receiver';
import { eventually } from '../support/stream-reader';

let seq = 0;
function envelope(volatile = false, room?: string): OutboundEnvelope {
  const target = room ? { kind: 'group' as const, name: room } : { kind: 'all' as const };
  const e = {
    v: 1 as const,
    id: `id-${++seq}`,
    type: 't',
    target,
    method: 'M',
    args: ['x'.repeat(100)],
    ts: Date.now(),
    volatile,
  };
  const targetKey = room ? `group:${room}` : 'all';
  return { envelope: e, json: JSON.stringify(e), targetKey, argsJson: JSON.stringify(e.args) };
}
const toRoom = (room: string) => envelope(false, room);

const ids = (batch: OutboundEnvelope[]) => batch.map((o) => o.envelope.id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lane metrics recorded per instance URL. */
class RecordedMetrics implements HttpBridgeMetrics {
  readonly dropped = new Map<string, Partial<Record<LaneDropReason, number>>>();
  readonly depth = new Map<string, number>();
  readonly reported = new Map<string, Partial<Record<GaveUpReportOutcome, number>>>();
  lane(instance: string): HttpBridgeLaneMetrics {
    return {
      queueDepth: (depth) => this.depth.set(instance, depth),
      dropped: (reason, count) => {
        const counts = this.dropped.get(instance) ?? {};
        counts[reason] = (counts[reason] ?? 0) + count;
        this.dropped.set(instance, counts);
      },
      up: () => undefined,
      gaveUpReported: (outcome, count) => {
        const counts = this.reported.get(instance) ?? {};
        counts[outcome] = (counts[outcome] ?? 0) + count;
        this.reported.set(instance, counts);
      },
    };
  }
}

/** A TCP server that accepts connections and never answers anything: a frozen instance, probes included. */
async function blackhole(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/internal/realtime/events`,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A bridge endpoint that answers every POST after `delayMs`, recording the ids in arrival order. */
async function slowReceiver(delayMs: number): Promise<{ url: string; ids: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') {
        for (const e of JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ id: string }>)
          received.push(e.id);
      }
      setTimeout(() => res.writeHead(req.method === 'POST' ? 204 : 200).end(), req.method === 'POST' ? delayMs : 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/internal/realtime/events`,
    ids: received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('http-bridge transport (real HTTP receivers)', () => {
  let receivers: BridgeReceiver[];
  let transport: HttpBridgeTransport;
  let metrics: RecordedMetrics;

  const make = (urls: string[], overrides: Partial<HttpBridgeTransportSettings> = {}) => {
    metrics = new RecordedMetrics();
    transport = new HttpBridgeTransport(
      {
        urls,
        healthUrls: urls.map((url) => url + '/health'),
        secret: 'secret',
        connectionsPerInstance: 4,
        timeoutMs: 1000,
        maxBodyBytes: 1024 * 1024,
        // The tests drive recovery with health(); the lanes' own probe stays out of the way.
        probeIntervalMs: 60_000,
        probeTimeoutMs: 300,
        closeTimeoutMs: 1000,
        ...overrides,
      },
      metrics,
    );
    return transport;
  };
  /** Probes every instance and waits for all the marks (health() itself resolves at the first healthy one). */
  const probeAll = () => Promise.all(transport.lanes.map((lane) => lane.check()));
  const makeFor = (count: number, overrides: Partial<HttpBridgeTransportSettings> = {}) =>
    make(
      receivers.slice(0, count).map((r) => r.url),
      overrides,
    );

  beforeEach(async () => {
    receivers = await Promise.all([1, 2, 3].map(() => new BridgeReceiver('secret').start()));
  });

  afterEach(async () => {
    await transport?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('POSTs each batch as one JSON array, with the bearer secret, to every instance', async () => {
    makeFor(3);
    const batch = [envelope(), envelope(), envelope()];
    await transport.publish(batch);
    await eventually(() => {
      for (const receiver of receivers) expect(receiver.ids()).toEqual(ids(batch));
    });
    for (const receiver of receivers) expect(receiver.requests).toBe(1);
  });

  it('counts a batch delivered when one instance failed, skips that instance until its probe passes, then sends it what it missed in order', async () => {
    makeFor(2);
    receivers[1].failWith = 500;
    const sent = [envelope()];
    await transport.publish(sent);
    expect(receivers[0].envelopes).toHaveLength(1);
    await eventually(() => expect(transport.lanes[1].up).toBe(false));

    for (let i = 0; i < 3; i++) {
      const batch = [envelope(), envelope()];
      sent.push(...batch);
      await transport.publish(batch);
    }
    expect(receivers[1].requests).toBe(1);
    expect(transport.lanes[1].depth).toBe(7);

    receivers[1].failWith = undefined;
    await transport.health();
    await probeAll();
    expect(transport.lanes[1].up).toBe(true);
    await eventually(() => expect(receivers[1].ids()).toEqual(ids(sent)));
    expect(receivers[0].ids()).toEqual(ids(sent));
    expect(transport.lanes[1].depth).toBe(0);
    expect(metrics.depth.get(receivers[1].url)).toBe(0);
    expect(metrics.dropped.size).toBe(0);
  });

  it('does not let a hung instance hold back the others, not even for one timeout', async () => {
    const hung = await blackhole();
    try {
      make([receivers[0].url, hung.url], { timeoutMs: 300 });
      const started = Date.now();
      for (let i = 0; i < 5; i++) await transport.publish([envelope()]);
      // Five publishes together take less than one 300 ms timeout of the hung instance (loose: a loaded box).
      expect(Date.now() - started).toBeLessThan(300);
      expect(receivers[0].envelopes).toHaveLength(5);
      // Its probe does not answer either: health still passes through the other instance, promptly.
      const probing = Date.now();
      await transport.health();
      expect(Date.now() - probing).toBeLessThan(300);
      await eventually(() => expect(transport.lanes[1].up).toBe(false));
      expect(transport.lanes[1].lastError).toMatch(/timed out after 300 ms/);
    } finally {
      await transport.close();
      await hung.close();
    }
  });

  it('does not resolve before an instance acknowledged when every instance is slow, and rejects when none does in time', async () => {
    const hungA = await blackhole();
    const hungB = await blackhole();
    try {
      make([hungA.url, hungB.url], { timeoutMs: 300, closeTimeoutMs: 0 });
      const started = Date.now();
      await expect(transport.publish([envelope()])).rejects.toThrow(TransportPublishError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // The batch belongs to the fallback chain again: no lane keeps it for a later retry.
      await eventually(() =>
        expect(transport.lanes.map((lane) => [lane.up, lane.depth])).toEqual([
          [false, 0],
          [false, 0],
        ]),
      );
      // Every instance is down now: the next publish fails at once, so the chain falls back or buffers.
      const again = Date.now();
      await expect(transport.publish([envelope()])).rejects.toThrow(TransportDisconnectedError);
      // Without a request: well under the 300 ms a POST may take (a sanity bound; 39 ms seen on a loaded CI box).
      expect(Date.now() - again).toBeLessThan(150);
    } finally {
      await transport.close();
      await hungA.close();
      await hungB.close();
    }
  });

  it('waits for the first acknowledgement when every instance is slow but answers', async () => {
    const slow = await Promise.all([slowReceiver(150), slowReceiver(200)]);
    try {
      make(slow.map((r) => r.url));
      const batch = [envelope()];
      const started = Date.now();
      await transport.publish(batch);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      await eventually(() => expect(slow.map((r) => r.ids)).toEqual([ids(batch), ids(batch)]));
    } finally {
      await transport.close();
      await Promise.all(slow.map((r) => r.close()));
    }
  });

  it('keeps each lane in order while a slower instance catches up', async () => {
    const slow = await slowReceiver(20);
    try {
      make([receivers[0].url, slow.url]);
      const sent: OutboundEnvelope[] = [];
      for (let i = 0; i < 200; i++) {
        const batch = [envelope(), envelope()];
        sent.push(...batch);
        await transport.publish(batch);
      }
      expect(receivers[0].ids()).toEqual(ids(sent));
      await eventually(() => expect(slow.ids).toEqual(ids(sent)));
      expect(receivers[0].requests).toBe(200);
    } finally {
      await transport.close();
      await slow.close();
    }
  });

  it('fails the batch with a TransportPublishError when no instance took it; a non-2xx answer is a failure', async () => {
    makeFor(2);
    receivers[0].failWith = 503;
    receivers[1].failWith = 401;
    await expect(transport.publish([envelope()])).rejects.toThrow(TransportPublishError);
    await expect(transport.publish([envelope()])).rejects.toThrow(/answered (503|401)/);
    // Neither lane keeps the batch: the chain owns it again. The 401 is a refusal, counted for that instance.
    expect(transport.lanes.map((lane) => lane.depth)).toEqual([0, 0]);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ rejected: 1 });
  });

  it('refuses a wrong secret as a failure', async () => {
    make([receivers[0].url], { secret: 'wrong' });
    await expect(transport.publish([envelope()])).rejects.toThrow(/answered 401/);
  });

  it('splits a long queue into several POSTs no bigger than the body limit, in order', async () => {
    makeFor(1, { maxBodyBytes: 2000 });
    const batch = Array.from({ length: 20 }, () => envelope());
    await transport.publish(batch);
    expect(receivers[0].ids()).toEqual(ids(batch));
    expect(receivers[0].requests).toBeGreaterThan(1);
    for (const size of receivers[0].bodySizes) expect(size).toBeLessThanOrEqual(2000);
  });

  it('reports unhealthy only when every instance is down', async () => {
    makeFor(2);
    receivers[0].healthy = false;
    await expect(transport.health()).resolves.toBeUndefined();
    receivers[1].healthy = false;
    await expect(transport.health()).rejects.toThrow(/http-bridge is unavailable/);
  });

  it('keeps at most laneQueueEnvelopes for a down instance: the oldest never sent are dropped and counted', async () => {
    makeFor(2, { laneQueueEnvelopes: 5 });
    receivers[1].failWith = 503;
    const first = [envelope()];
    await transport.publish(first);
    await eventually(() => expect(transport.lanes[1].up).toBe(false));
    const later = Array.from({ length: 10 }, () => envelope());
    for (const o of later) await transport.publish([o]);
    // The batch sent without an answer is kept (the instance may have it, so it is retried, never counted lost);
    // of the others, the newest 4.
    expect(transport.lanes[1].depth).toBe(5);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ overflow: 6 });

    receivers[1].failWith = undefined;
    await transport.health();
    await eventually(() => expect(receivers[1].ids()).toEqual(ids([...first, ...later.slice(6)])));
    expect(receivers[0].ids()).toEqual(ids([...first, ...later]));
    // Told before anything queued after what it missed (the batch sent without an answer is older: it goes first).
    expect(receivers[1].arrivals).toEqual([...ids(first), 'gaveUp [{"kind":"all"}]', ...ids(later.slice(6))]);
    expect(metrics.reported.get(receivers[1].url)).toEqual({ told: 6 });
  });

  it('drops for an instance what waited longer than laneRetryMs, counted, and sends it the rest', async () => {
    makeFor(2, { laneRetryMs: 300 });
    receivers[1].healthy = false;
    await expect(transport.health()).resolves.toBeUndefined();
    await probeAll();
    expect(transport.lanes[1].up).toBe(false);
    const old = [envelope(), envelope()];
    await transport.publish(old);
    await sleep(400);
    const fresh = [envelope()];
    await transport.publish(fresh);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ expired: 2 });

    receivers[1].healthy = true;
    await transport.health();
    await eventually(() => expect(receivers[1].ids()).toEqual(ids(fresh)));
    expect(receivers[0].ids()).toEqual(ids([...old, ...fresh]));
    expect(receivers[1].arrivals).toEqual(['gaveUp [{"kind":"all"}]', ...ids(fresh)]);
  });

  it('tells an instance the targets it gave up, each once, before anything queued after them', async () => {
    makeFor(2, { laneRetryMs: 300 });
    receivers[1].healthy = false;
    await probeAll();
    const old = [toRoom('room:1'), toRoom('room:2'), toRoom('room:1')];
    await transport.publish(old);
    await sleep(400);
    const fresh = [toRoom('room:3'), toRoom('room:1')];
    await transport.publish(fresh);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ expired: 3 });
    receivers[1].healthy = true;
    await probeAll();
    await eventually(() => expect(receivers[1].ids()).toEqual(ids(fresh)));
    expect(receivers[1].arrivals).toEqual([
      'gaveUp [{"kind":"group","name":"room:1"},{"kind":"group","name":"room:2"}]',
      ...ids(fresh),
    ]);
    expect(metrics.reported.get(receivers[1].url)).toEqual({ told: 3 });
    expect(receivers[0].gaveUp).toEqual([]);
  });

  it('reports what an instance refused, and sends an instance that refuses the report (older) the rest anyway', async () => {
    makeFor(2);
    receivers[1].failWith = 400;
    await transport.publish([toRoom('room:1')]);
    await eventually(() => expect(metrics.dropped.get(receivers[1].url)).toEqual({ rejected: 1 }));
    receivers[1].failWith = undefined;
    receivers[1].legacyOnly = true;
    await probeAll();
    const later = [toRoom('room:2')];
    await transport.publish(later);
    await eventually(() => expect(receivers[1].ids()).toEqual(ids(later)));
    expect(receivers[1].gaveUp).toEqual([]);
    expect(metrics.reported.get(receivers[1].url)).toEqual({ refused: 1 });
  });

  it('says when every lane is done with an acknowledged envelope, for the outbox to remove its record', async () => {
    const slow = await slowReceiver(300);
    try {
      make([receivers[0].url, slow.url]);
      transport.trackSettlements();
      const batch = [toRoom('room:1'), toRoom('room:1')];
      await transport.publish(batch);
      const settlement = transport.settlementOf(batch[0].envelope.id);
      expect(settlement).toBeDefined();
      let settled: boolean | undefined;
      void settlement!.then((complete) => (settled = complete));
      await sleep(100);
      expect(settled).toBeUndefined();
      await eventually(() => expect(settled).toBe(true));
      expect(slow.ids).toEqual(ids(batch));
      expect(transport.settlementOf(batch[1].envelope.id)).toBeUndefined();
    } finally {
      await transport.close();
      await slow.close();
    }
  });

  it('settles an envelope a lane gave up once its instance has the report, and never when the api stops first', async () => {
    makeFor(2, { laneRetryMs: 200, closeTimeoutMs: 100 });
    transport.trackSettlements();
    receivers[1].healthy = false;
    await probeAll();
    const told = [toRoom('room:1')];
    await transport.publish(told);
    const first = transport.settlementOf(told[0].envelope.id)!;
    await sleep(300);
    await transport.publish([toRoom('room:2')]); // expires the first one for B
    let outcome: boolean | undefined;
    void first.then((complete) => (outcome = complete));
    await sleep(50);
    expect(outcome).toBeUndefined();
    receivers[1].healthy = true;
    await probeAll();
    await eventually(() => expect(outcome).toBe(true));
    expect(receivers[1].gaveUp).toEqual([[{ kind: 'group', name: 'room:1' }]]);

    receivers[1].healthy = false;
    await probeAll();
    const untold = [toRoom('room:3')];
    await transport.publish(untold);
    const second = transport.settlementOf(untold[0].envelope.id)!;
    await sleep(300);
    await transport.publish([toRoom('room:4')]);
    await transport.close();
    await expect(second).resolves.toBe(false);
    expect(metrics.reported.get(receivers[1].url)).toEqual({ told: 1, shutdown: 1 });
  });

  it('never replays volatile envelopes to an instance that missed them', async () => {
    makeFor(2);
    receivers[1].healthy = false;
    await probeAll();
    const durable = [envelope(), envelope()];
    await transport.publish([envelope(true), durable[0], envelope(true)]);
    await transport.publish([durable[1], envelope(true)]);
    expect(transport.lanes[1].depth).toBe(2);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ volatile: 3 });
    receivers[1].healthy = true;
    await probeAll();
    await eventually(() => expect(receivers[1].ids()).toEqual(ids(durable)));
    expect(receivers[0].envelopes).toHaveLength(5);
  });

  it('close() gives the lanes time to catch up, then drops and counts what is left', async () => {
    makeFor(2, { closeTimeoutMs: 2000, probeIntervalMs: 50 });
    receivers[1].healthy = false;
    await probeAll();
    const batch = [envelope(), envelope()];
    await transport.publish(batch);
    setTimeout(() => (receivers[1].healthy = true), 200);
    const closing = Date.now();
    await transport.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(receivers[1].ids()).toEqual(ids(batch));
    expect(metrics.dropped.size).toBe(0);

    makeFor(2, { closeTimeoutMs: 200 });
    receivers[1].healthy = false;
    await probeAll();
    await transport.publish([envelope(), envelope(), envelope()]);
    const deadline = Date.now();
    await transport.close();
    expect(Date.now() - deadline).toBeLessThan(500);
    expect(metrics.dropped.get(receivers[1].url)).toEqual({ shutdown: 3 });
    await expect(transport.publish([envelope()])).rejects.toThrow(/closed/);
  });
});
