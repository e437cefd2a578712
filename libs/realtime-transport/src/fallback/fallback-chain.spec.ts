import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { TransportPublishError } from '../errors/transport-publish.error';
import type { RealtimeRoutingFlags } from '../realtime-transport-options.interface';
import { TransportRouter } from '../routing/transport.router';
import { FakeTransport } from '../testing/fake.transport';
import { outbound } from '../testing/outbound.fixture';
import { FallbackChain, type FallbackChainSettings } from './fallback-chain';
import type { FallbackChainMetrics } from './fallback-chain.metrics';

const settings: FallbackChainSettings = {
  bufferCapacity: 1000,
  replayWindowMs: 0,
  maxBatchSize: 100,
  publishTimeoutMs: 200,
  maxAttemptsPerEnvelope: 5,
  breaker: { failureThreshold: 1, openMs: 50 },
};

const flags = (changes: Partial<RealtimeRoutingFlags> = {}): RealtimeRoutingFlags => ({
  useRedisStreams: true,
  redisStreamsPercentage: 100,
  fallbackToHttp: true,
  dualWrite: false,
  ...changes,
});

class RecordingMetrics implements FallbackChainMetrics {
  published: Record<string, number> = {};
  switches: string[] = [];
  drops: Record<string, number> = {};
  observePublish(transport: string, ok: boolean, envelopes: number) {
    const key = `${transport}:${ok ? 'ok' : 'fail'}`;
    this.published[key] = (this.published[key] ?? 0) + envelopes;
  }
  fallbackSwitch(from: string, to: string) {
    this.switches.push(`${from}->${to}`);
  }
  breakerState() {}
  bufferDepth() {}
  dropped(reason: string, count: number) {
    this.drops[reason] = (this.drops[reason] ?? 0) + count;
  }
  replays = 0;
  replayed(_transport: string, count: number) {
    this.replays += count;
  }
}

describe('FallbackChain', () => {
  let redis: FakeTransport;
  let http: FakeTransport;
  let metrics: RecordingMetrics;
  let router: TransportRouter;

  const chainWith = (routing = flags(), overrides: Partial<FallbackChainSettings> = {}) => {
    router = new TransportRouter(['redis-streams', 'http-bridge'], routing);
    return new FallbackChain([redis, http], router, { ...settings, ...overrides }, metrics);
  };

  beforeEach(() => {
    redis = new FakeTransport('redis-streams');
    http = new FakeTransport('http-bridge');
    metrics = new RecordingMetrics();
  });

  it('sends envelopes to the primary transport, batched and in order', async () => {
    const chain = chainWith();
    const items = Array.from({ length: 250 }, () => outbound());
    items.forEach((o) => chain.enqueue(o));
    await chain.whenIdle();
    expect(redis.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(redis.batches).toEqual([100, 100, 50]);
    expect(http.received).toHaveLength(0);
    expect(chain.pendingCount).toBe(0);
    expect(metrics.published['redis-streams:ok']).toBe(250);
  });

  it('does not call the transport on the publishing call stack', () => {
    const chain = chainWith();
    chain.enqueue(outbound());
    expect(redis.received).toHaveLength(0);
  });

  it('retries a failed batch on the next transport with the same ids, and reports the switch', async () => {
    const chain = chainWith();
    redis.failing = true;
    const items = [outbound(), outbound()];
    items.forEach((o) => chain.enqueue(o));
    await chain.whenIdle();
    expect(http.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(chain.activeTransport).toBe('http-bridge');
    expect(metrics.switches).toEqual(['redis-streams->http-bridge']);
    expect(metrics.published['redis-streams:fail']).toBe(2);
  });

  it('opens the breaker at once when the transport says it has no connection', async () => {
    const chain = chainWith(flags(), { breaker: { failureThreshold: 5, openMs: 50 } });
    redis.publish = () => Promise.reject(new TransportDisconnectedError('redis-streams', 'connection is reconnecting'));
    const item = outbound();
    chain.enqueue(item);
    await chain.whenIdle();
    expect(chain.link('redis-streams')!.breaker.state).toBe('open');
    expect(http.ids()).toEqual([item.envelope.id]);
  });

  it('retries only the envelopes that failed when a batch fails partly', async () => {
    const chain = chainWith(flags(), { breaker: { failureThreshold: 5, openMs: 50 } });
    redis.failIndexes = [1];
    const items = [outbound(), outbound(), outbound()];
    items.forEach((o) => chain.enqueue(o));
    await chain.whenIdle();
    expect(redis.ids()).toEqual([items[0].envelope.id, items[2].envelope.id]);
    expect(http.ids()).toEqual([items[1].envelope.id]);
  });

  it('keeps envelopes in the buffer while no transport works and drains them in order on recovery', async () => {
    const chain = chainWith(flags({ fallbackToHttp: false }));
    redis.failing = true;
    const items = Array.from({ length: 5 }, () => outbound());
    items.forEach((o) => chain.enqueue(o));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(chain.pendingCount).toBe(5);
    expect(chain.activeTransport).toBe('none');

    redis.failing = false;
    await new Promise((resolve) => setTimeout(resolve, 60));
    chain.link('redis-streams')!.breaker.recordProbe(true);
    await chain.whenIdle();
    expect(redis.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(chain.activeTransport).toBe('redis-streams');
  });

  it('lets a room whose transport works overtake a room whose transport is down, each in order', async () => {
    const chain = chainWith(flags({ fallbackToHttp: false, redisStreamsPercentage: 50 }));
    // Find one room on each side of the percentage split.
    let redisRoom = '';
    let httpRoom = '';
    for (let i = 0; !redisRoom || !httpRoom; i++) {
      const first = router.route(`group:room:${i}`).order[0];
      if (first === 'redis-streams') redisRoom ||= `room:${i}`;
      else httpRoom ||= `room:${i}`;
    }
    chain.link('redis-streams')!.breaker.recordFailure();
    const waiting = [outbound({ kind: 'group', name: redisRoom }), outbound({ kind: 'group', name: redisRoom })];
    const passing = [outbound({ kind: 'group', name: httpRoom }), outbound({ kind: 'group', name: httpRoom })];
    [waiting[0], passing[0], waiting[1], passing[1]].forEach((o) => chain.enqueue(o));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(http.ids()).toEqual(passing.map((o) => o.envelope.id));
    expect(chain.pendingCount).toBe(2);
  });

  it('writes each envelope to both transports under dual write, with the same id', async () => {
    const chain = chainWith(flags({ dualWrite: true }));
    const items = [outbound(), outbound()];
    items.forEach((o) => chain.enqueue(o));
    await chain.whenIdle();
    expect(redis.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(http.ids()).toEqual(items.map((o) => o.envelope.id));
  });

  it('counts a dual-written envelope as delivered when one of the two writes worked', async () => {
    const chain = chainWith(flags({ dualWrite: true }));
    http.failing = true;
    chain.enqueue(outbound());
    await chain.whenIdle();
    expect(redis.received).toHaveLength(1);
    expect(chain.pendingCount).toBe(0);
  });

  it('treats a publish that does not answer in time as failed and moves on', async () => {
    const chain = chainWith(flags(), { publishTimeoutMs: 30 });
    redis.pause();
    const item = outbound();
    chain.enqueue(item);
    await chain.whenIdle();
    expect(http.ids()).toEqual([item.envelope.id]);
    redis.resume();
  });

  it('gives an envelope up after the maximum number of failed attempts, counted', async () => {
    const chain = chainWith(flags({ fallbackToHttp: false }), {
      maxAttemptsPerEnvelope: 3,
      breaker: { failureThreshold: 100, openMs: 50 },
    });
    redis.failIndexes = [0];
    chain.enqueue(outbound());
    await chain.whenIdle();
    expect(metrics.drops.max_attempts).toBe(1);
    expect(redis.batches).toEqual([1, 1, 1]);
  });

  it('follows routing changes for envelopes still waiting', async () => {
    const chain = chainWith(flags({ fallbackToHttp: false }));
    redis.failing = true;
    const item = outbound();
    chain.enqueue(item);
    await new Promise((resolve) => setTimeout(resolve, 20));
    router.apply(flags({ useRedisStreams: false }));
    chain.routingChanged();
    await chain.whenIdle();
    expect(http.ids()).toEqual([item.envelope.id]);
  });

  it('flushes within the deadline and reports what it had to drop', async () => {
    const chain = chainWith(flags({ fallbackToHttp: false }));
    redis.failing = true;
    chain.enqueue(outbound());
    chain.enqueue(outbound());
    const report = await chain.flush(50);
    expect(report.dropped).toBe(2);
    expect(metrics.drops.shutdown).toBe(2);
    expect(chain.pendingCount).toBe(0);
  });

  it('tells listeners what each transport acknowledged', async () => {
    const chain = chainWith();
    const seen: string[] = [];
    chain.onPublished((transport, batch) => batch.forEach((o) => seen.push(`${transport}:${o.envelope.id}`)));
    const item = outbound();
    chain.enqueue(item);
    await chain.whenIdle();
    expect(seen).toEqual([`redis-streams:${item.envelope.id}`]);
  });

  describe('replay after a lossy transport fails', () => {
    const lossy = () => Object.assign(new FakeTransport('redis-streams'), { acknowledgementsMayBeLost: true });

    it('sends the durable envelopes it acknowledged just before failing again, in order, before newer ones', async () => {
      redis = lossy();
      const chain = chainWith(flags(), { replayWindowMs: 5000 });
      const early = [outbound(), outbound(), outbound(undefined, true)];
      early.forEach((o) => chain.enqueue(o));
      await chain.whenIdle();
      redis.failing = true;
      const late = outbound();
      chain.enqueue(late);
      await chain.whenIdle();
      // The volatile one (typing) is not worth a replay.
      expect(http.ids()).toEqual([early[0].envelope.id, early[1].envelope.id, late.envelope.id]);
      expect(metrics.replays).toBe(2);
    });

    it('does not replay what was acknowledged long before the failure', async () => {
      redis = lossy();
      const chain = chainWith(flags(), { replayWindowMs: 20 });
      chain.enqueue(outbound());
      await chain.whenIdle();
      await new Promise((resolve) => setTimeout(resolve, 50));
      redis.failing = true;
      chain.enqueue(outbound());
      await chain.whenIdle();
      expect(http.received).toHaveLength(1);
      expect(metrics.replays).toBe(0);
    });

    it('keeps replays for the recovered transport when there is no other (Redis restarted empty)', async () => {
      redis = lossy();
      const chain = chainWith(flags({ fallbackToHttp: false }), { replayWindowMs: 5000 });
      const early = outbound();
      chain.enqueue(early);
      await chain.whenIdle();
      redis.failing = true;
      const late = outbound();
      chain.enqueue(late);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(chain.pendingCount).toBe(2);
      redis.failing = false;
      await new Promise((resolve) => setTimeout(resolve, 60));
      chain.link('redis-streams')!.breaker.recordProbe(true);
      await chain.whenIdle();
      expect(redis.ids()).toEqual([early.envelope.id, early.envelope.id, late.envelope.id]);
    });
  });

  describe('a transport whose parts fail on their own (the shards of a cluster node)', () => {
    /** Redis with one shard down: envelopes of `downRoom` fail (parts down), the others are acknowledged. */
    class ShardedRedis extends FakeTransport {
      readonly acknowledgementsMayBeLost = true;
      downRoom?: string;
      lost?: (owns: (targetKey: string) => boolean, part: string) => void;
      onPartLost(listener: (owns: (targetKey: string) => boolean, part: string) => void) {
        this.lost = listener;
      }
      gate?: Promise<void>;
      override async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
        // Decided when the batch is written, answered when the gate opens.
        const failed = batch.flatMap((o, i) => (o.targetKey === `group:${this.downRoom}` ? [i] : []));
        await this.gate;
        batch.forEach((o, i) => !failed.includes(i) && this.received.push(o));
        if (failed.length === 0) return;
        throw new TransportPublishError(this.name, 'shard down', failed.length < batch.length ? failed : undefined, {
          partsDown: true,
        });
      }
    }
    const room = (name: string) => outbound({ kind: 'group', name });

    it('sends the down part to the next transport, keeps the breaker closed and the other rooms on Redis', async () => {
      const sharded = new ShardedRedis('redis-streams');
      redis = sharded;
      const chain = chainWith(flags(), { breaker: { failureThreshold: 1, openMs: 50 } });
      sharded.downRoom = 'a';
      const items = [room('a'), room('b'), room('a'), room('b')];
      items.forEach((o) => chain.enqueue(o));
      await chain.whenIdle();
      expect(chain.link('redis-streams')!.breaker.state).toBe('closed');
      expect(redis.ids()).toEqual([items[1].envelope.id, items[3].envelope.id]);
      expect(http.ids()).toEqual([items[0].envelope.id, items[2].envelope.id]);
    });

    it("keeps a room in order when its part comes back while an envelope it failed still has to go: the room's later envelopes of that batch follow it", async () => {
      const sharded = new ShardedRedis('redis-streams');
      redis = sharded;
      const chain = chainWith(flags());
      sharded.downRoom = 'a';
      let openGate!: () => void;
      sharded.gate = new Promise((resolve) => (openGate = resolve));
      const first = room('a');
      chain.enqueue(first);
      await new Promise((resolve) => setTimeout(resolve, 10));
      // While the failing write is in flight: the next envelope of the room arrives, and the shard comes back.
      const second = room('a');
      chain.enqueue(second);
      sharded.downRoom = undefined;
      http.pause();
      openGate();
      await new Promise((resolve) => setTimeout(resolve, 10));
      http.resume();
      await chain.whenIdle();
      // Both over the bridge, in order: the second would otherwise reach Redis (and the gateways) first.
      expect(http.ids()).toEqual([first.envelope.id, second.envelope.id]);
      expect(redis.ids()).toEqual([]);
    });

    it('replays what the lost part acknowledged lately, and only that part', async () => {
      const sharded = new ShardedRedis('redis-streams');
      redis = sharded;
      const chain = chainWith(flags(), { replayWindowMs: 5000 });
      const early = [room('a'), room('b'), room('a')];
      early.forEach((o) => chain.enqueue(o));
      await chain.whenIdle();
      sharded.lost!((targetKey) => targetKey === 'group:a', 'shard of a');
      await chain.whenIdle();
      expect(http.ids()).toEqual([early[0].envelope.id, early[2].envelope.id]);
      expect(metrics.replays).toBe(2);
      expect(chain.link('redis-streams')!.breaker.state).toBe('closed');
    });
  });
});

describe('FallbackChain with a transport part that is down (a Redis Cluster shard)', () => {
  /** A transport whose part for `downTarget` refuses envelopes without a round trip, until `bringBack()`. */
  class PartedTransport extends FakeTransport {
    downTarget?: string;
    refused = 0;
    private available: Array<() => void> = [];
    accepts(envelope: OutboundEnvelope): boolean {
      return envelope.targetKey !== this.downTarget;
    }
    onPartAvailable(listener: () => void): void {
      this.available.push(listener);
    }
    override async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
      if (batch.some((o) => o.targetKey === this.downTarget)) this.refused++;
      return super.publish(batch);
    }
    bringBack(): void {
      this.downTarget = undefined;
      for (const listener of this.available) listener();
    }
  }

  it('keeps an envelope whose part is down waiting in its place, without using its attempts, when no other transport takes it', async () => {
    const redis = new PartedTransport('redis-streams');
    const metrics = new RecordingMetrics();
    const router = new TransportRouter(['redis-streams'], flags({ fallbackToHttp: false }));
    const chain = new FallbackChain([redis], router, settings, metrics);
    redis.downTarget = 'group:room:down';
    const down = [1, 2, 3].map(() => outbound({ kind: 'group', name: 'room:down' }));
    const up = outbound({ kind: 'group', name: 'room:up' });
    down.forEach((o) => chain.enqueue(o));
    chain.enqueue(up);
    // Not idle while envelopes wait: give the chain time to send what it can, and to loop if it would.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The other part's envelope went; the down part's were never sent, never dropped.
    expect(redis.ids()).toEqual([up.envelope.id]);
    expect(redis.refused).toBe(0);
    expect(metrics.drops).toEqual({});
    redis.bringBack();
    await chain.whenIdle();
    expect(redis.ids()).toEqual([up.envelope.id, ...down.map((o) => o.envelope.id)]);
    expect(metrics.published['redis-streams:fail']).toBeUndefined();
  });
});
