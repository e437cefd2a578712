import { Injectable } from '@nestjs/common';
import { CqrsModule, EventBus, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { EnvelopeValidator, streamKey } from '@realtime-streams/contracts';
import {
  RealtimeEvent,
  RealtimeTransportModule,
  type RealtimeTransportOptions,
  toGroup,
} from '@realtime-streams/transport';
import { FallbackChain } from '@realtime-streams/transport/testing';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { RedisServer } from '../support/redis-server';
import { readStream } from '../support/stream-reader';

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.roomId}`),
})
class MessageCreated {
  constructor(
    readonly roomId: string,
    readonly seq: number,
  ) {}
}

/** Not decorated: the realtime module must ignore it, local handlers must still get it. */
class AuditLogged {
  constructor(readonly what: string) {}
}

@RealtimeEvent({ method: 'ReceiveMessage', to: () => ({ kind: 'nowhere' }) as never })
class BrokenTarget {}

@Injectable()
@EventsHandler(MessageCreated, AuditLogged)
class LocalHandler implements IEventHandler<MessageCreated | AuditLogged> {
  readonly received: Array<MessageCreated | AuditLogged> = [];
  handle(event: MessageCreated | AuditLogged): void {
    this.received.push(event);
  }
}

describe('publisher -> Redis Streams (real redis-server)', () => {
  let redis: RedisServer;
  let client: Redis;
  let app: TestingModule;
  const validator = new EnvelopeValidator();

  const boot = async (options: Partial<RealtimeTransportOptions> = {}) => {
    register.clear();
    app = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ redis: { url: redis.url }, ...options })],
      providers: [LocalHandler],
    }).compile();
    await app.init();
    return app;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = redis.client();
  });

  afterEach(async () => {
    await app?.close();
    await client.flushall();
  });

  afterAll(async () => {
    client.disconnect();
    await redis.dispose();
  });

  it('writes every EventBus event to the stream as a valid envelope, in order per room', async () => {
    await boot();
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 1000; seq++) bus.publish(new MessageCreated(String(seq % 10), seq));
    await app.get(FallbackChain).whenIdle();

    const envelopes = await readStream(client, streamKey('realtime', 0));
    expect(envelopes).toHaveLength(1000);
    for (const envelope of envelopes) expect(validator.validate(envelope)).toEqual({ valid: true });
    expect(new Set(envelopes.map((e) => e.id)).size).toBe(1000);
    for (let room = 0; room < 10; room++) {
      const seqs = envelopes
        .filter((e) => e.target.kind === 'group' && e.target.name === `room:${room}`)
        .map((e) => (e.args[0] as MessageCreated).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(100);
    }
    expect(envelopes[0]).toMatchObject({ type: 'chat.message.created', method: 'ReceiveMessage', volatile: false });
  });

  it("numbers each shard's entries consecutively across batches, with the counter beside the stream", async () => {
    await boot({ redis: { url: redis.url, shards: 2, streamKeyPrefix: 'num' } });
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 300; seq++) {
      bus.publish(new MessageCreated(String(seq % 7), seq));
      if (seq % 50 === 0) await app.get(FallbackChain).whenIdle();
    }
    await app.get(FallbackChain).whenIdle();
    let total = 0;
    for (const shard of [0, 1]) {
      const key = streamKey('num', shard);
      const numbers = (await client.xrange(key, '-', '+')).map(([, fields]) => Number(fields[fields.indexOf('n') + 1]));
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
      expect(Number(await client.get(`${key}:seq`))).toBe(numbers.length);
      total += numbers.length;
    }
    expect(total).toBe(300);
  });

  it("trims by time on Redis's clock, and by length as the memory guard", async () => {
    // Small stream nodes, so approximate trimming (which drops whole nodes) shows on a few hundred entries.
    await client.config('SET', 'stream-node-max-entries', '10');
    await boot({ redis: { url: redis.url, retentionMs: 500, maxLen: 1000 } });
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 100; seq++) bus.publish(new MessageCreated('old', seq));
    await app.get(FallbackChain).whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (let seq = 0; seq < 20; seq++) bus.publish(new MessageCreated('new', seq));
    await app.get(FallbackChain).whenIdle();
    const rooms = (await readStream(client, streamKey('realtime', 0))).map((e) => (e.target as { name: string }).name);
    expect(rooms.filter((room) => room === 'room:new')).toHaveLength(20);
    // Within one node of the cut-off: at most 10 old entries are left.
    expect(rooms.filter((room) => room === 'room:old').length).toBeLessThanOrEqual(10);
    await app.close();

    await boot({ redis: { url: redis.url, retentionMs: 0, maxLen: 50 } });
    for (let seq = 0; seq < 500; seq++) app.get(EventBus).publish(new MessageCreated('many', seq));
    await app.get(FallbackChain).whenIdle();
    expect(await client.xlen(streamKey('realtime', 0))).toBeLessThanOrEqual(60);
    await client.config('SET', 'stream-node-max-entries', '100');
  });

  it("leaves the application's own event handlers receiving every event", async () => {
    await boot();
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 50; seq++) bus.publish(new MessageCreated('1', seq));
    bus.publish(new AuditLogged('login'));
    await app.get(FallbackChain).whenIdle();
    const handler = app.get(LocalHandler);
    expect(handler.received).toHaveLength(51);
    expect(handler.received.at(-1)).toBeInstanceOf(AuditLogged);
    // The undecorated event is not written to the stream.
    expect(await client.xlen(streamKey('realtime', 0))).toBe(50);
  });

  it('keeps each room on one shard, in order, when the stream is sharded', async () => {
    await boot({ redis: { url: redis.url, shards: 4, streamKeyPrefix: 'rt' } });
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 400; seq++) bus.publish(new MessageCreated(String(seq % 20), seq));
    await app.get(FallbackChain).whenIdle();

    const shards = await Promise.all([0, 1, 2, 3].map((shard) => readStream(client, streamKey('rt', shard))));
    expect(shards.flat()).toHaveLength(400);
    expect(shards.filter((entries) => entries.length > 0).length).toBeGreaterThan(1);
    for (let room = 0; room < 20; room++) {
      const holding = shards.filter((entries) =>
        entries.some((e) => e.target.kind === 'group' && e.target.name === `room:${room}`),
      );
      expect(holding).toHaveLength(1);
      const seqs = holding[0]
        .filter((e) => e.target.kind === 'group' && e.target.name === `room:${room}`)
        .map((e) => (e.args[0] as MessageCreated).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('refuses an invalid event without throwing into EventBus.publish, counts it and writes nothing', async () => {
    await boot();
    const bus = app.get(EventBus);
    expect(() => bus.publish(new BrokenTarget())).not.toThrow();
    bus.publish(new MessageCreated('1', 1));
    await app.get(FallbackChain).whenIdle();
    expect(await client.xlen(streamKey('realtime', 0))).toBe(1);
    const metrics = await register.getSingleMetricAsString('realtime_rejected_events_total');
    expect(metrics).toContain('realtime_rejected_events_total{type="BrokenTarget",reason="invalid"} 1');
  });

  it('trims the stream to about MAXLEN', async () => {
    await boot({ redis: { url: redis.url, maxLen: 100 } });
    const bus = app.get(EventBus);
    for (let seq = 0; seq < 2000; seq++) bus.publish(new MessageCreated('1', seq));
    await app.get(FallbackChain).whenIdle();
    const length = await client.xlen(streamKey('realtime', 0));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300);
  });
});
