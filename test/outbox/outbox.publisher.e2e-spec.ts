import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { CqrsModule, EventBus, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  NotDurableEventError,
  OutboxNotConfiguredError,
  PreparedEnvelope,
  RealtimeEvent,
  RealtimePublisher,
  RealtimeTransportModule,
  type RealtimeTransportOptions,
  toGroup,
  TRANSPORT_METRIC,
} from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { SqliteOutboxStore } from '../fixtures/sqlite-outbox.store';
import { RedisServer } from '../support/redis-server';
import { eventually, readStream } from '../support/stream-reader';
import { registryMetric } from '../support/metrics';

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.room}`),
})
class MessageCreated {
  constructor(
    readonly room: number,
    readonly seq: number,
  ) {}
}

@RealtimeEvent({
  method: 'UserTyping',
  type: 'chat.typing',
  to: (e: Typing) => toGroup(`room:${e.room}`),
  coalesce: { key: (e: Typing) => `${e.room}:${e.user}` },
})
class Typing {
  constructor(
    readonly room: number,
    readonly user: string,
  ) {}
}

@RealtimeEvent({ method: 'Presence', type: 'presence', volatile: true, to: () => toGroup('lobby') })
class Presence {}

class NotRealtime {}

@Injectable()
@EventsHandler(MessageCreated)
class LocalHandler implements IEventHandler<MessageCreated> {
  readonly received: MessageCreated[] = [];
  handle(event: MessageCreated): void {
    this.received.push(event);
  }
}

const seqsByRoom = (envelopes: Array<{ target: unknown; args: readonly unknown[] }>) => {
  const rooms = new Map<string, number[]>();
  for (const e of envelopes) {
    const room = (e.target as { name: string }).name;
    const list = rooms.get(room) ?? [];
    list.push((e.args[0] as MessageCreated).seq);
    rooms.set(room, list);
  }
  return rooms;
};

describe('durable accept: RealtimePublisher with an SQLite outbox (real redis-server)', () => {
  let redis: RedisServer;
  let client: Redis;
  let app: TestingModule | undefined;
  let dir: string;
  let store: SqliteOutboxStore;
  const key = streamKey('realtime', 0);

  const boot = async (options: Partial<RealtimeTransportOptions> = {}, withOutbox = true) => {
    register.clear();
    app = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        RealtimeTransportModule.forRoot({
          redis: { url: redis.url },
          probeIntervalMs: 100,
          breaker: { failureThreshold: 1, openMs: 200 },
          ...(withOutbox ? { outbox: { store } } : {}),
          ...options,
        }),
      ],
      providers: [LocalHandler],
    }).compile();
    await app.init();
    return { publisher: app.get(RealtimePublisher), chain: app.get(FallbackChain), bus: app.get(EventBus) };
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = redis.client();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'realtime-outbox-'));
    store = new SqliteOutboxStore(join(dir, 'app.db'));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    store.close();
    rmSync(dir, { recursive: true, force: true });
    if (!redis.running) await redis.start();
    await client.flushall();
  });

  afterAll(async () => {
    client.disconnect();
    await redis.dispose();
  });

  it('publishDurably: the record written in the transaction is what reaches Redis, then it is removed', async () => {
    const { publisher, chain } = await boot();
    const records: string[] = [];
    const result = publisher.publishDurably(new MessageCreated(1, 0), (record) => {
      records.push(record.json);
      store.accept({ seq: 0, room: 'room:1', text: 'hi' }, record);
      return 'stored';
    });
    expect(result).toBe('stored');
    expect(store.outboxIds()).toHaveLength(1); // durable before the answer; published without waiting for Redis
    await chain.whenIdle();
    const [raw] = await client.xrange(key, '-', '+');
    expect(raw[1][raw[1].indexOf('e') + 1]).toBe(records[0]); // the same bytes, the same id
    expect(store.outboxIds()).toEqual([]);
    expect(store.pendingCalls).toBe(1); // the start-up read only
    expect(await registryMetric(TRANSPORT_METRIC.outboxRemoved)).toBe(1);

    // An async transaction: published once its promise resolved.
    const later = publisher.publishDurably(new MessageCreated(1, 1), async (record) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      store.accept({ seq: 1, room: 'room:1', text: 'again' }, record);
      return 42;
    });
    await chain.whenIdle();
    expect(await client.xlen(key)).toBe(1);
    expect(await later).toBe(42);
    await chain.whenIdle();
    expect(await client.xlen(key)).toBe(2);
  });

  it('prepare + publishPrepared; publishing the event on the EventBus too sends it once, and local handlers get it', async () => {
    const { publisher, chain, bus } = await boot();
    const event = new MessageCreated(2, 0);
    const prepared = store.transaction(() => {
      store.insertMessageOnly({ seq: 0, room: 'room:2', text: 'x' });
      const p = publisher.prepare(event);
      store.insert(p.record);
      return p;
    });
    expect(publisher.prepare(event)).toBe(prepared); // the same envelope, not a second id
    publisher.publishPrepared(prepared);
    bus.publish(event);
    publisher.publishPrepared(prepared);

    // EventBus only (no publishPrepared call): the prepared envelope goes out, once.
    const second = new MessageCreated(2, 1);
    store.transaction(() => store.insert(publisher.prepare(second).record));
    bus.publish(second);
    bus.publish(second);

    // A frozen event cannot carry the link as a property: the same, through a side table.
    const frozen = Object.freeze(new MessageCreated(2, 2));
    const third = publisher.prepare(frozen);
    store.insert(third.record);
    bus.publish(frozen);
    publisher.publishPrepared(third);

    await chain.whenIdle();
    const envelopes = await readStream(client, key);
    expect(envelopes.map((e) => e.id)).toEqual([prepared.id, publisher.prepare(second).id, third.id]);
    expect(app!.get(LocalHandler).received).toEqual([event, second, second, frozen]);
    // The link is invisible to the application: not enumerable, not copied by a spread.
    expect(Object.keys(event)).toEqual(['room', 'seq']);
    expect(Object.getOwnPropertySymbols({ ...event })).toEqual([]);
    expect(store.outboxIds()).toEqual([]);
  });

  it('publishes nothing for a transaction that failed, not even through the EventBus', async () => {
    const { publisher, chain, bus } = await boot();
    const event = new MessageCreated(3, 0);
    expect(() =>
      publisher.publishDurably(event, (record) =>
        store.transaction(() => {
          store.insert(record);
          throw new Error('constraint failed');
        }),
      ),
    ).toThrow('constraint failed');
    await expect(
      publisher.publishDurably(new MessageCreated(3, 1), async () => {
        throw new Error('deadlock');
      }),
    ).rejects.toThrow('deadlock');
    expect(store.outboxIds()).toEqual([]); // rolled back
    await chain.whenIdle();
    expect(await client.xlen(key)).toBe(0);

    // The event object itself is not tied to the failed attempt: a plain publish is a new envelope.
    bus.publish(event);
    await chain.whenIdle();
    expect(await client.xlen(key)).toBe(1);
  });

  it('refuses what cannot be durable, with errors that say what to do', async () => {
    const { publisher } = await boot();
    expect(() => publisher.prepare(new Typing(1, 'u'))).toThrow(NotDurableEventError);
    expect(() => publisher.prepare(new Typing(1, 'u'))).toThrow(/coalesced.*Publish it with publish\(\)/);
    expect(() => publisher.prepare(new Presence())).toThrow(/volatile/);
    expect(() => publisher.prepare(new NotRealtime())).toThrow(/NotRealtime.*no @RealtimeEvent/);
    const forged = Object.create(PreparedEnvelope.prototype) as PreparedEnvelope;
    expect(() => publisher.publishPrepared(forged)).toThrow(TypeError);
    expect(() => publisher.publishPrepared({ id: 'x' } as unknown as PreparedEnvelope)).toThrow(TypeError);
    await app!.close();
    app = undefined;
    await expect(boot({ outbox: { store: {} as never } })).rejects.toThrow(/outbox\.store must be an OutboxStore/);
  });

  it('with the buffer full and Redis down, drops no outboxed event and keeps each room in order', async () => {
    const { publisher, chain } = await boot({ bufferCapacity: 20, maxBatchSize: 16 });
    await redis.kill();
    await eventually(() => expect(chain.activeTransport).toBe('none'));
    const accepted: string[] = [];
    for (let seq = 0; seq < 500; seq++) {
      publisher.publishDurably(new MessageCreated(seq % 4, seq), (record) => {
        store.accept({ seq, room: `room:${seq % 4}`, text: 't' }, record);
        accepted.push(record.id);
      });
      if (seq % 10 === 0) publisher.publish(new Typing(seq % 4, 'u')); // volatile: may be dropped, as before
      if (seq % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(chain.pendingCount).toBeLessThanOrEqual(20);
    expect(await registryMetric(TRANSPORT_METRIC.outboxSpilled)).toBeGreaterThanOrEqual(480);
    expect(await registryMetric(TRANSPORT_METRIC.outboxPending)).toBe(500);

    await redis.start();
    await eventually(async () => expect(await client.xlen(key)).toBeGreaterThanOrEqual(500), 15_000);
    await chain.whenIdle();
    const messages = (await readStream(client, key)).filter((e) => e.type === 'chat.message.created');
    expect(messages.map((e) => e.id)).toEqual(accepted); // each once, in acceptance order
    for (const [, seqs] of seqsByRoom(messages)) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(store.outboxIds()).toEqual([]);
    expect(await registryMetric(TRANSPORT_METRIC.dropped, { reason: 'buffer_full_oldest' })).toBe(0);
    expect(await registryMetric(TRANSPORT_METRIC.outboxPending)).toBe(0);
    expect(await registryMetric(TRANSPORT_METRIC.outboxRelayed)).toBeGreaterThanOrEqual(480);
    // Batched: removals and reads are per write and per relay batch, not per event.
    // eslint-disable-next-line no-console
    console.log(`500 events: ${store.removeCalls} remove calls, ${store.pendingCalls} pending reads`);
    expect(store.removeCalls).toBeLessThan(500 / 8);
    expect(store.pendingCalls).toBeLessThan(500 / 8);
  });

  it('without an outbox nothing changes: same buffer behaviour (oldest dropped when full), and no durable API', async () => {
    const { publisher, chain } = await boot({ bufferCapacity: 20 }, false);
    expect(() => publisher.prepare(new MessageCreated(1, 0))).toThrow(OutboxNotConfiguredError);
    expect(() => publisher.publishDurably(new MessageCreated(1, 0), () => undefined)).toThrow(/no outbox/);
    await redis.kill();
    await eventually(() => expect(chain.activeTransport).toBe('none'));
    for (let seq = 0; seq < 50; seq++) publisher.publish(new MessageCreated(1, seq));
    expect(chain.pendingCount).toBe(20);
    expect(await registryMetric(TRANSPORT_METRIC.dropped, { reason: 'buffer_full_oldest' })).toBe(30);
    await redis.start();
    await eventually(async () => expect(await client.xlen(key)).toBe(20), 10_000);
    const seqs = (await readStream(client, key)).map((e) => (e.args[0] as MessageCreated).seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i)); // the newest 20, as before
    expect(store.pendingCalls + store.removeCalls).toBe(0);
  });
});
