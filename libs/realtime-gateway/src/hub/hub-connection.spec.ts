import type { ConnectionBounds, ConnectionOverflow } from './connection-bounds';
import { HubConnection } from './hub-connection';
import { InvocationBudget } from './invocation-budget';
import { JSON_HUB_PROTOCOL } from './protocols/json-hub-protocol';
import { StatefulSession } from './session/stateful-session';
import type { HubSocket } from './transports/hub-socket';
import { SharedFrame } from './transports/shared-frame';

/** A socket whose unread bytes the test sets; it records what it is given. */
class FakeSocket implements HubSocket {
  readonly transport = 'WebSockets' as const;
  readonly carriesBinary = true;
  isOpen = true;
  bufferedBytes = 0;
  readonly sent: Buffer[] = [];
  send(frame: string | Buffer): void {
    this.sent.push(Buffer.from(frame));
  }
  sendShared(frame: SharedFrame): void {
    this.sent.push(frame.payload);
  }
  close(): void {
    this.isOpen = false;
  }
  terminate(): void {
    this.isOpen = false;
  }
  onMessage(): void {}
  onClose(): void {}
}

const HARD = 10_000;
const REPLAY = 5_000;

describe('HubConnection: every byte it queues counts against its bounds', () => {
  let socket: FakeSocket;
  let connection: HubConnection;
  let overflows: Array<{ bound: ConnectionOverflow; bytes: number }>;

  beforeEach(() => {
    socket = new FakeSocket();
    overflows = [];
    const bounds: ConnectionBounds = {
      softLimitBytes: HARD / 4,
      hardLimitBytes: HARD,
      replayBufferBytes: REPLAY,
      overflowed: (c, bound, bytes) => {
        overflows.push({ bound, bytes });
        c.terminate();
      },
    };
    connection = new HubConnection('c1', { id: 'u1', claims: {} }, socket, 0, new InvocationBudget(10, 10, 0), bounds);
    connection.handshakeDone = true;
  });

  const shared = (bytes: number) => new SharedFrame(Buffer.alloc(bytes, 0x61), false);

  it('sends a frame larger than the hard bound to an idle client, and one that takes it past the bound', () => {
    expect(connection.sendShared(shared(HARD * 3), 0)).toBe(true);
    socket.bufferedBytes = HARD - 1;
    connection.send(Buffer.alloc(HARD), 0);
    expect(socket.sent).toHaveLength(2);
    expect(overflows).toEqual([]);
  });

  it.each([
    ['a delivery', (c: HubConnection) => c.sendShared(shared(10), 0)],
    ['a ping', (c: HubConnection) => c.send(JSON_HUB_PROTOCOL.ping, 0)],
    ['a completion', (c: HubConnection) => c.sendCompletion(JSON_HUB_PROTOCOL.completion('1', { result: 1 }), 0, {})],
    ['a counted message', (c: HubConnection) => c.sendMessage(Buffer.from('x'), 0)],
  ])('closes a client over the hard bound at %s, once, and sends nothing more', (_, sendOne) => {
    socket.bufferedBytes = HARD + 1;
    sendOne(connection);
    sendOne(connection);
    expect(socket.sent).toEqual([]);
    expect(overflows).toEqual([{ bound: 'slow_client', bytes: HARD + 1 }]);
    expect(connection.ended).toBe(true);
  });

  it('counts what a batch holds for its one write', () => {
    connection.hold();
    for (let i = 0; i < 20; i++) connection.send(Buffer.alloc(1000), 0);
    // The eleventh frame found 10,000 bytes held (not over); the twelfth found 11,000.
    expect(overflows).toEqual([{ bound: 'slow_client', bytes: 11_000 }]);
    connection.flush();
    expect(socket.sent).toEqual([]);
  });

  describe('with a stateful session', () => {
    beforeEach(() => {
      connection.session = new StatefulSession('hash', 'c1', JSON_HUB_PROTOCOL, { at: {} });
    });

    it('closes it when completions alone pass the replay buffer, acknowledged or not by then', () => {
      const completion = JSON_HUB_PROTOCOL.completion('1', { error: 'e'.repeat(1000) });
      for (let i = 0; i < 4; i++) connection.sendCompletion(completion, 0, {});
      expect(overflows).toEqual([]);
      connection.session!.ack(2);
      for (let i = 0; i < 2; i++) connection.sendCompletion(completion, 0, {});
      expect(overflows).toEqual([]);
      // Five unacknowledged (5,205 bytes) pass the 5,000-byte buffer: the fifth is not sent.
      connection.sendCompletion(completion, 0, {});
      expect(overflows).toEqual([{ bound: 'replay_buffer', bytes: 5 * completion.length }]);
      expect(socket.sent).toHaveLength(6);
    });

    it('counts group changes kept for a replay, which a client that never acks could pile up', () => {
      for (let i = 0; i < 40; i++) connection.session!.groupChanged('join', `room:${i}`, {});
      expect(connection.session!.heldBytes).toBeGreaterThan(REPLAY);
      connection.sendMessage(Buffer.from('x'), 0, {});
      expect(overflows).toEqual([{ bound: 'replay_buffer', bytes: connection.session!.heldBytes }]);
    });
  });

  it('counts live messages held while a resume is prepared', () => {
    connection.held = [];
    for (let i = 0; i < 6; i++) connection.sendMessage(Buffer.alloc(1000), 0);
    expect(overflows).toEqual([{ bound: 'replay_buffer', bytes: 6000 }]);
    expect(connection.takeHeld()).toHaveLength(6);
  });
});
