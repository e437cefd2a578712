import {
  InboundEnvelopeReader,
  rebuildSession,
  type SessionRecord,
  SessionStore,
} from '@realtime-streams/gateway/testing';
import { NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { envelope } from './support';

const KEYS = ['t:{0}', 't:{1}'];
const reader = new InboundEnvelopeReader({ maxArgsBytes: 65536, maxArgsDepth: 32 });

/** The frames a rebuilt session would resend, as the client parses them. */
function resent(session: { unacked(): Iterable<string | Buffer> }): unknown[] {
  return [...session.unacked()].map((frame) => {
    const message = JSON.parse(frame.toString().slice(0, -1)) as {
      type: number;
      arguments?: unknown[];
      invocationId?: string;
    };
    return message.type === 1 ? message.arguments![0] : `completion ${message.invocationId}`;
  });
}

/** The same for a MessagePack session: its frames are binary, and its record keeps them as base64. */
function resentInMessagePack(session: { unacked(): Iterable<string | Buffer> }): unknown[] {
  const stock = new MessagePackHubProtocol();
  return [...session.unacked()].flatMap((frame) => {
    const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    return stock.parseMessages(arrayBuffer, NullLogger.instance).map((message) => {
      const m = message as { type: number; arguments?: unknown[]; invocationId?: string };
      return m.type === 1 ? m.arguments![0] : `completion ${m.invocationId}`;
    });
  });
}

function record(overrides: Partial<SessionRecord>): SessionRecord {
  return {
    v: 1,
    owner: 'gw-dead',
    state: 'live',
    connectionId: 'c1',
    userId: 'alice',
    base: 10,
    frames: [],
    pos: { [KEYS[0]]: '0-0', [KEYS[1]]: '0-0' },
    groups: ['room'],
    events: [],
    received: 3,
    foreign: false,
    at: Date.now(),
    ...overrides,
  };
}

describe('rebuilding a session from its record and the stream (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: SessionStore;
  const ids: string[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    store = new SessionStore(server.url, 't', 'gw-new', 60_000);
    await store.start();
    // Shard 0: room 1, other 2, room 3, room 4, alice's own 5; shard 1: nothing for alice.
    const targets = [
      { kind: 'group', name: 'room' },
      { kind: 'group', name: 'other' },
      { kind: 'group', name: 'room' },
      { kind: 'group', name: 'room' },
      { kind: 'user', id: 'alice' },
    ];
    for (const [i, target] of targets.entries()) {
      ids.push((await redis.xadd(KEYS[0], '*', 'e', JSON.stringify(envelope(target, [i + 1]))))!);
    }
    await redis.xadd(KEYS[1], '*', 'e', JSON.stringify(envelope({ kind: 'group', name: 'elsewhere' }, ['x'])));
  });

  afterAll(async () => {
    await store.stop();
    redis.disconnect();
    await server.dispose();
  });

  const source = () => ({ store, reader, keysOf: () => KEYS, maxEntries: 1000 });

  it('regenerates what targeted the session after the checkpoint, numbered from its base', async () => {
    const rebuilt = await rebuildSession(record({}), 'h', 'alice', source());
    expect(rebuilt.ok).toBe(true);
    if (!rebuilt.ok) return;
    expect(resent(rebuilt.session)).toEqual([1, 3, 4, 5]);
    expect(rebuilt.session.acked).toBe(10);
    expect(rebuilt.session.sent).toBe(14);
    expect(rebuilt.session.receivedUpTo).toBe(3);
    expect(rebuilt.readUpTo[KEYS[0]]).toBe(ids[4]);
  });

  it('redoes a recorded join and completion where they happened', async () => {
    const q = (i: number) => ({ [KEYS[0]]: ids[i], [KEYS[1]]: '0-0' });
    // After entry 1 (message 11): joined "other" too late for entry 2; after entry 3 (message 12) a completion (13).
    const events: SessionRecord['events'] = [
      { k: 'join', g: 'other', after: 11, q: q(1) },
      { k: 'done', seq: 13, frame: '{"type":3,"invocationId":"7"}\u001e', q: q(2) },
    ];
    const rebuilt = await rebuildSession(record({ events }), 'h', 'alice', source());
    expect(rebuilt.ok && resent(rebuilt.session)).toEqual([1, 3, 'completion 7', 4, 5]);
    expect(rebuilt.ok && [...rebuilt.groups].sort()).toEqual(['other', 'room']);
  });

  it('refuses when a recorded completion would land on another id', async () => {
    const events: SessionRecord['events'] = [
      { k: 'done', seq: 12, frame: '{"type":3,"invocationId":"7"}\u001e', q: { [KEYS[0]]: ids[2], [KEYS[1]]: '0-0' } },
    ];
    expect(await rebuildSession(record({ events }), 'h', 'alice', source())).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a crash replay spanning several shards, or after a message that did not come from the stream', async () => {
    expect(await rebuildSession(record({ groups: ['room', 'elsewhere'] }), 'h', 'alice', source())).toEqual({
      ok: false,
      reason: 'several_shards',
    });
    expect(await rebuildSession(record({ foreign: true }), 'h', 'alice', source())).toEqual({
      ok: false,
      reason: 'foreign',
    });
  });

  it("resends a handed-over record's own frames, then what the stream has after its position, across shards", async () => {
    const handedOver = record({
      state: 'detached',
      frames: ['{"type":1,"target":"ReceiveMessage","arguments":["kept"]}\u001e'],
      pos: { [KEYS[0]]: ids[2], [KEYS[1]]: '0-0' },
      groups: ['room', 'elsewhere'],
    });
    const rebuilt = await rebuildSession(handedOver, 'h', 'alice', source());
    expect(rebuilt.ok && resent(rebuilt.session)).toEqual(['kept', 4, 5, 'x']);
  });

  it('rebuilds a MessagePack session in MessagePack: regenerated messages, recorded completions and frames', async () => {
    const stock = new MessagePackHubProtocol();
    const base64 = (message: Parameters<MessagePackHubProtocol['writeMessage']>[0]) =>
      Buffer.from(stock.writeMessage(message)).toString('base64');
    const events: SessionRecord['events'] = [
      {
        k: 'done',
        seq: 13,
        frame: base64({ type: 3, invocationId: '7', result: 'ok' }),
        q: { [KEYS[0]]: ids[2], [KEYS[1]]: '0-0' },
      },
    ];
    const live = await rebuildSession(record({ p: 'messagepack', events }), 'h', 'alice', source());
    expect(live.ok && resentInMessagePack(live.session)).toEqual([1, 3, 'completion 7', 4, 5]);

    const handedOver = record({
      p: 'messagepack',
      state: 'detached',
      frames: [base64({ type: 1, target: 'ReceiveMessage', arguments: ['kept'], streamIds: [] })],
      pos: { [KEYS[0]]: ids[2], [KEYS[1]]: '0-0' },
    });
    const rebuilt = await rebuildSession(handedOver, 'h', 'alice', source());
    expect(rebuilt.ok && resentInMessagePack(rebuilt.session)).toEqual(['kept', 4, 5]);
    // What it records again is MessagePack too, for the next instance.
    const again = rebuilt.ok && rebuilt.session.detachedRecord('gw', 'alice', ['room'], handedOver.pos, Date.now());
    expect(again && again.p).toBe('messagepack');
    expect(again && Buffer.from(again.frames[0], 'base64')[0]).toBeLessThan(0x80);
  });

  it('refuses another user, and a session too far behind', async () => {
    expect(await rebuildSession(record({}), 'h', 'mallory', source())).toEqual({ ok: false, reason: 'wrong_user' });
    expect(await rebuildSession(record({}), 'h', 'alice', { ...source(), maxEntries: 2 })).toEqual({
      ok: false,
      reason: 'too_far_behind',
    });
  });
});
