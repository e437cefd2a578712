import type { HubConnection } from './hub-connection';
import { FakeOwner, FakeSocket, openConnection } from './hub-connection.fakes';
import type { MessageOrigin } from './message-origin';
import { JSON_HUB_PROTOCOL } from './protocols/json-hub-protocol';
import { StatefulSession } from './session/stateful-session';
import { SharedFrame } from './transports/shared-frame';

const HARD = 10_000;
const REPLAY = 5_000;
const SOFT = HARD / 4;

const origin = (volatile = false): MessageOrigin => ({
  envelopeId: 'e',
  volatile,
  entry: undefined,
  released: false,
  at: {},
});
const shared = (bytes: number) => new SharedFrame(Buffer.alloc(bytes, 0x61), false);
const withSession = (c: HubConnection) => {
  c.session ??= new StatefulSession('hash', 'c1', JSON_HUB_PROTOCOL, { at: {} });
  return c;
};

describe('HubConnection: every byte it queues counts against its bounds', () => {
  let socket: FakeSocket;
  let owner: FakeOwner;
  let connection: HubConnection;

  beforeEach(() => {
    socket = new FakeSocket();
    owner = new FakeOwner({ softLimitBytes: SOFT, hardLimitBytes: HARD, replayBufferBytes: REPLAY });
    connection = openConnection(owner, socket);
  });

  it('sends a frame larger than the hard bound to an idle client, and one that takes it past the bound', () => {
    expect(connection.deliver(shared(HARD * 3), origin(), 0)).toBe(true);
    socket.bufferedBytes = HARD - 1;
    connection.send(Buffer.alloc(HARD), 0);
    expect(socket.sent).toHaveLength(2);
    expect(owner.overflows).toEqual([]);
  });

  it.each([
    ['a delivery', (c: HubConnection) => c.deliver(shared(10), origin(), 0)],
    ['a ping', (c: HubConnection) => c.send(JSON_HUB_PROTOCOL.ping, 0)],
    ['a completion', (c: HubConnection) => c.complete(JSON_HUB_PROTOCOL.completion('1', { result: 1 }), 0)],
    ['a counted message', (c: HubConnection) => withSession(c).deliver(shared(1), origin(), 0)],
  ])('closes a client over the hard bound at %s, once, and sends nothing more', (_, sendOne) => {
    socket.bufferedBytes = HARD + 1;
    sendOne(connection);
    sendOne(connection);
    expect(socket.sent).toEqual([]);
    expect(owner.overflows).toEqual([{ bound: 'slow_client', bytes: HARD + 1 }]);
    expect(connection.ended).toBe(true);
  });

  it('skips volatile deliveries past the soft bound, and still sends durable ones', () => {
    socket.bufferedBytes = SOFT + 1;
    expect(connection.deliver(shared(10), origin(true), 0)).toBe(false);
    expect(owner.skipped).toBe(1);
    expect(connection.deliver(shared(10), origin(false), 0)).toBe(true);
    expect(socket.sent).toHaveLength(1);
    expect(connection.ended).toBe(false);
  });

  it('counts what a batch holds for its one write', () => {
    connection.hold();
    for (let i = 0; i < 20; i++) connection.send(Buffer.alloc(1000), 0);
    // The eleventh frame found 10,000 bytes held (not over); the twelfth found 11,000.
    expect(owner.overflows).toEqual([{ bound: 'slow_client', bytes: 11_000 }]);
    connection.flush();
    expect(socket.sent).toEqual([]);
  });

  describe('with a stateful session', () => {
    beforeEach(() => withSession(connection));

    it('closes it when completions alone pass the replay buffer, acknowledged or not by then', () => {
      const completion = JSON_HUB_PROTOCOL.completion('1', { error: 'e'.repeat(1000) });
      for (let i = 0; i < 4; i++) connection.complete(completion, 0);
      expect(owner.overflows).toEqual([]);
      connection.session!.ack(2);
      for (let i = 0; i < 2; i++) connection.complete(completion, 0);
      expect(owner.overflows).toEqual([]);
      // Five unacknowledged (5,205 bytes) pass the 5,000-byte buffer: the fifth is not sent.
      connection.complete(completion, 0);
      expect(owner.overflows).toEqual([{ bound: 'replay_buffer', bytes: 5 * completion.length }]);
      expect(socket.sent).toHaveLength(6);
    });

    it('counts group changes kept for a replay, which a client that never acks could pile up', () => {
      for (let i = 0; i < 40; i++) connection.session!.groupChanged('join', `room:${i}`, {});
      expect(connection.session!.heldBytes).toBeGreaterThan(REPLAY);
      connection.deliver(shared(1), origin(), 0);
      expect(owner.overflows).toEqual([{ bound: 'replay_buffer', bytes: connection.session!.heldBytes }]);
    });

    it('numbers and keeps volatile deliveries too, past the soft bound (a crash replay numbers them)', () => {
      socket.bufferedBytes = SOFT + 1;
      expect(connection.deliver(shared(10), origin(true), 0)).toBe(true);
      expect(connection.session!.sent).toBe(1);
      expect(owner.skipped).toBe(0);
    });
  });

  it('counts live messages held while a resume is prepared, and numbers them after the replay', () => {
    const resuming = openConnection(owner);
    expect(resuming.state).toBe('resuming');
    for (let i = 0; i < 4; i++) resuming.deliver(shared(1000), origin(), 0);
    const session = new StatefulSession('hash', 'c1', JSON_HUB_PROTOCOL, { at: {}, sent: 3 });
    resuming.replayDone(session, { upTo: {}, ids: new Set() }, 0);
    expect(session.sent).toBe(7);
    const another = openConnection(owner);
    for (let i = 0; i < 6; i++) another.deliver(shared(1000), origin(), 0);
    expect(owner.overflows).toEqual([{ bound: 'replay_buffer', bytes: 6000 }]);
  });
});

describe('HubConnection holding live messages while a resume is prepared', () => {
  it('keeps its own copy of each origin: delivery reuses its origin object for the next envelope', () => {
    const owner = new FakeOwner({ softLimitBytes: HARD, hardLimitBytes: HARD, replayBufferBytes: REPLAY });
    const resuming = openConnection(owner);
    const reused = { ...origin(), envelopeId: 'in-the-replay' };
    resuming.deliver(shared(10), reused, 0);
    reused.envelopeId = 'the next envelope';
    const session = new StatefulSession('hash', 'c1', JSON_HUB_PROTOCOL, { at: {}, sent: 3 });
    resuming.replayDone(session, { upTo: {}, ids: new Set(['in-the-replay']) }, 0);
    // The replay covered it: not numbered a second time.
    expect(session.sent).toBe(3);
  });
});

describe('HubConnection state', () => {
  it('moves only along a connection’s life, and says so when the owner gets it wrong', () => {
    const owner = new FakeOwner({ softLimitBytes: 1, hardLimitBytes: 1, replayBufferBytes: 1 });
    const connection = openConnection(owner, new FakeSocket());
    expect(connection.state).toBe('open');
    expect(() => connection.moveTo('resuming')).toThrow('cannot go from open to resuming');
    connection.moveTo('detached');
    connection.moveTo('open');
    connection.close('bye');
    expect(connection.state).toBe('closed');
    expect(() => connection.moveTo('open')).toThrow('cannot go from closed to open');
  });
});
