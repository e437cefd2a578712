import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { FallbackChain, type FallbackChainSettings } from '../fallback/fallback-chain';
import { NO_FALLBACK_CHAIN_METRICS } from '../fallback/fallback-chain.metrics';
import type { RealtimeRoutingFlags } from '../realtime-transport-options.interface';
import { TransportRouter } from '../routing/transport.router';
import { TransportPublishError } from '../errors/transport-publish.error';
import { FakeTransport } from '../testing/fake.transport';
import { outbound } from '../testing/outbound.fixture';
import type { OutboxDeferReason, OutboxMetrics } from './outbox.metrics';
import { OutboxRelay } from './outbox-relay';
import type { OutboxCursor, OutboxRecord, OutboxStore, StoredOutboxRecord } from './outbox-store.interface';

/** The application's outbox table, in memory; `delayMs` makes every call asynchronous. */
class MemoryStore implements OutboxStore {
  rows: StoredOutboxRecord[] = [];
  pendingCalls: Array<{ limit: number; after?: OutboxCursor }> = [];
  removeCalls: string[][] = [];
  failPending = 0;
  private seq = 0;

  constructor(private readonly delayMs?: number) {}

  insert(record: OutboxRecord): void {
    this.rows.push({ ...record, cursor: ++this.seq });
  }

  pending(limit: number, after?: OutboxCursor): StoredOutboxRecord[] | Promise<StoredOutboxRecord[]> {
    this.pendingCalls.push({ limit, after });
    const read = () => {
      if (this.failPending > 0) {
        this.failPending--;
        throw new Error('database is locked');
      }
      return this.rows.filter((r) => after === undefined || (r.cursor as number) > (after as number)).slice(0, limit);
    };
    if (this.delayMs === undefined) return read();
    return sleep(this.delayMs).then(read);
  }

  remove(ids: readonly string[]): void | Promise<void> {
    this.removeCalls.push([...ids]);
    const drop = () => {
      const gone = new Set(ids);
      this.rows = this.rows.filter((r) => !gone.has(r.id));
    };
    if (this.delayMs === undefined) return drop();
    return new Promise((resolve) => setTimeout(() => (drop(), resolve()), this.delayMs));
  }

  ids(): string[] {
    return this.rows.map((r) => r.id);
  }
}

class CountingMetrics implements OutboxMetrics {
  pending = 0;
  relayed = 0;
  removed = 0;
  spilled = 0;
  deferred: Partial<Record<OutboxDeferReason, number>> = {};
  errors: string[] = [];
  outboxPending(count: number) {
    this.pending = count;
  }
  outboxRelayed(count: number) {
    this.relayed += count;
  }
  outboxRemoved(count: number) {
    this.removed += count;
  }
  outboxSpilled(count: number) {
    this.spilled += count;
  }
  outboxDeferred(reason: OutboxDeferReason, count: number) {
    this.deferred[reason] = (this.deferred[reason] ?? 0) + count;
  }
  outboxStoreError(operation: string) {
    this.errors.push(operation);
  }
}

const settings: FallbackChainSettings = {
  bufferCapacity: 1000,
  replayWindowMs: 0,
  maxBatchSize: 100,
  publishTimeoutMs: 200,
  maxAttemptsPerEnvelope: 5,
  breaker: { failureThreshold: 1, openMs: 30 },
};

const flags: RealtimeRoutingFlags = {
  useRedisStreams: true,
  redisStreamsPercentage: 100,
  fallbackToHttp: false,
  dualWrite: false,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(5);
    }
  }
}

/** Refuses every write of one target (a Redis shard at maxmemory, say) and takes the others; health passes. */
class RoomRefusingTransport extends FakeTransport {
  refused?: string;

  override async publish(batch: readonly OutboundEnvelope[]): Promise<void> {
    if (this.refused === undefined) return super.publish(batch);
    this.batches.push(batch.length);
    const failed = batch.flatMap((o, i) => (o.targetKey === this.refused ? [i] : []));
    batch.forEach((o, i) => !failed.includes(i) && this.received.push(o));
    if (failed.length === 0) return;
    const partial = failed.length === batch.length ? undefined : failed;
    throw new TransportPublishError(this.name, "OOM command not allowed when used memory > 'maxmemory'", partial);
  }
}
const room = (i: number) => ({ kind: 'group' as const, name: `room:${i % 3}` });

describe('OutboxRelay with the fallback chain', () => {
  let redis: FakeTransport;
  let http: FakeTransport;
  let store: MemoryStore;
  let metrics: CountingMetrics;
  let drops: Record<string, number>;

  const chainWith = (overrides: Partial<FallbackChainSettings> = {}, routing: Partial<RealtimeRoutingFlags> = {}) => {
    const router = new TransportRouter(['redis-streams', 'http-bridge'], { ...flags, ...routing });
    const chain = new FallbackChain(
      [redis, http],
      router,
      { ...settings, ...overrides },
      {
        ...NO_FALLBACK_CHAIN_METRICS,
        dropped: (reason, count) => (drops[reason] = (drops[reason] ?? 0) + count),
      },
    );
    const relay = new OutboxRelay(store, { relayBatchSize: 50, retryMs: 20 }, metrics);
    chain.useOutbox(relay);
    return { chain, relay };
  };

  /** What an application does: the record is committed, then the envelope published. */
  const accept = (chain: FallbackChain, o: OutboundEnvelope) => {
    store.insert({ id: o.envelope.id, type: o.envelope.type, targetKey: o.targetKey, json: o.json });
    chain.enqueueDurable(o);
  };

  const recover = async (chain: FallbackChain, transport = redis) => {
    transport.failing = false;
    await sleep(settings.breaker.openMs + 10);
    chain.link(transport.name)!.breaker.recordProbe(true);
  };

  beforeEach(() => {
    redis = new FakeTransport('redis-streams');
    http = new FakeTransport('http-bridge');
    store = new MemoryStore();
    metrics = new CountingMetrics();
    drops = {};
  });

  it('publishes from memory and removes records once per chain write, never reading the store after start', async () => {
    const { chain, relay } = chainWith();
    relay.start();
    const items = Array.from({ length: 250 }, (_, i) => outbound(room(i)));
    items.forEach((o) => accept(chain, o));
    await chain.whenIdle();
    expect(redis.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(redis.batches).toEqual([100, 100, 50]);
    expect(store.removeCalls.map((ids) => ids.length)).toEqual([100, 100, 50]);
    expect(store.pendingCalls).toHaveLength(1); // the start-up read, of an empty store
    expect(store.rows).toHaveLength(0);
    expect(metrics.removed).toBe(250);
    expect(metrics.relayed).toBe(0);
  });

  it('republishes at start what a previous process left, same ids and in order, before newer envelopes', async () => {
    store = new MemoryStore(5); // asynchronous: new envelopes arrive while the relay reads
    const left = Array.from({ length: 120 }, (_, i) => outbound(room(i)));
    left.forEach((o) =>
      store.insert({ id: o.envelope.id, type: o.envelope.type, targetKey: o.targetKey, json: o.json }),
    );
    const { chain, relay } = chainWith();
    relay.start();
    const fresh = Array.from({ length: 30 }, (_, i) => outbound(room(i)));
    for (const o of fresh) {
      accept(chain, o);
      await sleep(1);
    }
    await chain.whenIdle();
    expect(redis.ids()).toEqual([...left, ...fresh].map((o) => o.envelope.id));
    // The same bytes as the mapper wrote, not a re-serialization.
    expect(redis.received[0].json).toBe(left[0].json);
    expect(store.rows).toHaveLength(0);
    expect(metrics.relayed).toBe(150);
  });

  it('never drops an outboxed envelope when the buffer is full: it waits in the store, and order holds', async () => {
    const { chain, relay } = chainWith({ bufferCapacity: 10 });
    relay.start();
    redis.failing = true;
    const first = outbound(room(0));
    accept(chain, first);
    await sleep(5); // redis fails, its breaker opens: nothing can be written
    const items = [first, ...Array.from({ length: 59 }, (_, i) => outbound(room(i)))];
    items.slice(1).forEach((o) => accept(chain, o));
    // Volatile and record-less ones are still dropped when full, as without an outbox.
    chain.enqueue(outbound(room(0), true));
    chain.enqueue(outbound(room(0)));
    expect(chain.pendingCount).toBe(10);
    expect(metrics.spilled).toBe(50);
    expect(relay.holding).toBe(true);

    // New envelopes keep arriving while the relay catches up: none overtakes what waits in the store.
    await recover(chain);
    const later = Array.from({ length: 40 }, (_, i) => outbound(room(i)));
    for (const o of later) {
      accept(chain, o);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await chain.whenIdle();
    const expected = [...items, ...later].map((o) => o.envelope.id);
    expect(redis.ids()).toEqual(expected); // each once, in order; only the two without a record were dropped
    expect(drops).toEqual({ buffer_full_volatile: 1, buffer_full_oldest: 1 });
    expect(store.rows).toHaveLength(0);
    expect(relay.holding).toBe(false);
    expect(metrics.pending).toBe(0);
  });

  it('keeps order when the store answers asynchronously and envelopes spill during a read', async () => {
    store = new MemoryStore(3);
    const { chain, relay } = chainWith({ bufferCapacity: 20, maxBatchSize: 7 });
    // A transport slower than the publisher, so the buffer overflows again and again.
    const publish = redis.publish.bind(redis);
    redis.publish = async (batch) => {
      await sleep(2);
      await publish(batch);
    };
    relay.start();
    await chain.whenIdle();
    const items = Array.from({ length: 300 }, (_, i) => outbound(room(i)));
    for (let i = 0; i < items.length; i++) {
      accept(chain, items[i]);
      if (i % 5 === 0) await sleep(1);
    }
    await chain.whenIdle();
    expect(redis.ids()).toEqual(items.map((o) => o.envelope.id));
    expect(metrics.spilled).toBeGreaterThan(0);
    expect(store.rows).toHaveLength(0);
    // Batched removals: far fewer calls than envelopes.
    expect(store.removeCalls.length).toBeLessThan(items.length / 5);
  });

  it('keeps an envelope that failed too often waiting in order while the process runs (not deferred, not dropped), retried at an interval', async () => {
    // A transport whose health passes while it refuses one room's writes: the breaker never opens (threshold 100).
    const refusing = new RoomRefusingTransport('redis-streams');
    redis = refusing;
    const { chain, relay } = chainWith({ maxAttemptsPerEnvelope: 3, breaker: { failureThreshold: 100, openMs: 30 } });
    relay.start();
    refusing.refused = 'group:room:0';
    const stalled = outbound(room(0));
    accept(chain, stalled);
    await eventually(() => expect(refusing.batches.length).toBeGreaterThanOrEqual(3));
    const newer = outbound(room(0));
    const other = outbound(room(1));
    accept(chain, newer);
    accept(chain, other);
    // Another room goes on; the refused room's newer envelope waits behind the stalled one.
    await eventually(() => expect(redis.ids()).toEqual([other.envelope.id]));
    const batchesBefore = refusing.batches.length;
    await sleep(150);
    // Retried every openMs (30 ms), not in a busy loop: at most 150 / 30 tries, fewer on a slow machine.
    expect(refusing.batches.length - batchesBefore).toBeLessThanOrEqual(6);
    expect(metrics.deferred).toEqual({});
    expect(drops).toEqual({});
    expect(store.ids()).toEqual([stalled.envelope.id, newer.envelope.id]);
    expect(chain.pendingCount).toBe(2);

    // The room's writes are taken again: the stalled envelope goes first, then the newer one; records removed.
    refusing.refused = undefined;
    await chain.whenIdle();
    expect(redis.ids()).toEqual([other, stalled, newer].map((o) => o.envelope.id));
    expect(store.rows).toHaveLength(0);
    expect(metrics.deferred).toEqual({});
  });

  it('on shutdown leaves what could not be published in the store, and removes what was', async () => {
    const { chain, relay } = chainWith({ bufferCapacity: 5 });
    relay.start();
    const delivered = outbound();
    accept(chain, delivered);
    await chain.whenIdle();
    redis.failing = true;
    const waiting = Array.from({ length: 12 }, () => outbound());
    waiting.forEach((o) => accept(chain, o));
    await sleep(5);
    const report = await chain.flush(20);
    expect(report).toEqual({ dropped: 0, leftInOutbox: 12 });
    expect(metrics.deferred.shutdown).toBe(12);
    expect(store.ids()).toEqual(waiting.map((o) => o.envelope.id));
    expect(chain.pendingCount).toBe(0);
  });

  it('under dual write removes a record once, after both writes answered', async () => {
    const { chain, relay } = chainWith({}, { dualWrite: true });
    relay.start();
    http.pause();
    const o = outbound();
    accept(chain, o);
    await sleep(5);
    expect(redis.ids()).toEqual([o.envelope.id]);
    expect(store.removeCalls).toEqual([]);
    http.resume();
    await chain.whenIdle();
    expect(store.removeCalls).toEqual([[o.envelope.id]]);
  });

  it('retries a store that fails to read, without spinning, and still delivers everything in order', async () => {
    const left = Array.from({ length: 3 }, () => outbound());
    left.forEach((o) =>
      store.insert({ id: o.envelope.id, type: o.envelope.type, targetKey: o.targetKey, json: o.json }),
    );
    store.failPending = 2;
    const { chain, relay } = chainWith();
    relay.start();
    const fresh = outbound();
    accept(chain, fresh);
    await chain.whenIdle();
    expect(metrics.errors).toEqual(['pending', 'pending']);
    expect(store.pendingCalls.length).toBe(3);
    expect(redis.ids()).toEqual([...left, fresh].map((o) => o.envelope.id));
  });

  it('changes nothing for envelopes queued without a record', async () => {
    const { chain, relay } = chainWith({ bufferCapacity: 2 });
    relay.start();
    redis.failing = true;
    [outbound(), outbound(), outbound()].forEach((o) => chain.enqueue(o));
    expect(drops).toEqual({ buffer_full_oldest: 1 });
    const report = await chain.flush(10);
    expect(report).toEqual({ dropped: 2, leftInOutbox: 0 });
    expect(store.removeCalls).toEqual([]);
  });
});
