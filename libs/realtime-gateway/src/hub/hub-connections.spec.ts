import { resolveGatewayOptions } from '../config/resolve-gateway-options';
import { ConnectionRegistry } from './connection-registry';
import type { ConnectionState } from './connection-state';
import type { HubConnection } from './hub-connection';
import { FakeSocket } from './hub-connection.fakes';
import { HubConnections } from './hub-connections';
import type { ConnectionKind, HubMetrics } from './hub.metrics';
import { NegotiatedConnections } from './negotiated-connections';
import { JSON_HUB_PROTOCOL } from './protocols/json-hub-protocol';
import { StatefulSessions } from './session/stateful-sessions';
import { UserConnectionCounter } from './user-connection-counter';

const options = resolveGatewayOptions({ auth: { jwtSecret: 'a secret of at least some length' } });
const user = { id: 'u1', claims: {} };

/** Every index the owner keeps, as one value: what a transition must change together. */
function indexesOf(connection: HubConnection, world: World) {
  return {
    state: connection.state,
    routable: world.registry.all.has(connection),
    inRoom: world.registry.group('room').has(connection),
    callable: world.connections.find(connection.id) === connection,
    withSocket: world.connections.sockets.has(connection),
    userCount: world.userSockets.of('u1'),
    openGauge: world.open,
  };
}

interface World {
  registry: ConnectionRegistry;
  userSockets: UserConnectionCounter;
  connections: HubConnections;
  sessions: StatefulSessions;
  open: number;
  moves: string[];
}

function world(): World {
  const w = { moves: [], open: 0 } as unknown as World;
  const metrics = {
    connectionOpened: (_: ConnectionKind) => w.open++,
    connectionClosed: (_: ConnectionKind) => w.open--,
    protocolError: () => undefined,
    clientLimitHit: () => undefined,
    authFailed: () => undefined,
    sessionResumed: () => undefined,
    slowClientDisconnected: () => undefined,
    slowClientDropped: () => undefined,
  } satisfies HubMetrics;
  w.registry = new ConnectionRegistry();
  w.userSockets = new UserConnectionCounter();
  w.sessions = new StatefulSessions(options.statefulReconnect, {
    resumeFailed: () => undefined,
    sessionWritten: () => undefined,
    replayBuffered: () => undefined,
  });
  w.connections = new HubConnections(
    w.registry,
    w.userSockets,
    new NegotiatedConnections(60_000),
    w.sessions,
    metrics,
    options,
  );
  w.connections.observe({
    moved: (_, from: ConnectionState, to: ConnectionState) => w.moves.push(`${from}->${to}`),
    joined: (_, group) => w.moves.push(`joined ${group}`),
    left: (_, group) => w.moves.push(`left ${group}`),
  });
  return w;
}

describe('HubConnections: one owner moves a connection through its life and keeps every index with it', () => {
  it('routes a connection only once its handshake is done, and frees everything when it closes', () => {
    const w = world();
    const socket = new FakeSocket();
    const connection = w.connections.accept(socket, 'c1', user, null, false);
    expect(indexesOf(connection, w)).toEqual({
      state: 'connecting',
      routable: false,
      inRoom: false,
      callable: false,
      withSocket: true,
      userCount: 1,
      openGauge: 0,
    });
    w.connections.handshaken(connection, JSON_HUB_PROTOCOL, 1);
    w.connections.join(connection, 'room');
    expect(indexesOf(connection, w)).toEqual({
      state: 'open',
      routable: true,
      inRoom: true,
      callable: true,
      withSocket: true,
      userCount: 1,
      openGauge: 1,
    });
    connection.close('bye');
    // The socket still completes its close handshake: it is let go when its close event comes.
    expect(indexesOf(connection, w)).toMatchObject({ state: 'closed', routable: false, callable: false, userCount: 0 });
    expect(indexesOf(connection, w)).toMatchObject({ inRoom: false, withSocket: true, openGauge: 0 });
    socket.gone();
    expect(indexesOf(connection, w).withSocket).toBe(false);
    expect(w.moves).toEqual(['connecting->open', 'joined room', 'open->closed']);
  });

  it('keeps a stateful session routable and counted while its socket is away, and resumes it on a new socket', () => {
    const w = world();
    const first = new FakeSocket();
    const connection = w.connections.accept(first, 'c1', user, 'token', true);
    w.connections.handshaken(connection, JSON_HUB_PROTOCOL, 2);
    w.connections.join(connection, 'room');
    expect(connection.session).toBeDefined();
    first.gone();
    expect(indexesOf(connection, w)).toEqual({
      state: 'detached',
      routable: true,
      inRoom: true,
      callable: false,
      withSocket: false,
      userCount: 1,
      openGauge: 0,
    });
    expect(w.sessions.waiting('token')).toBe(connection);
    const second = new FakeSocket();
    w.connections.attach(connection, second, user, 'same');
    expect(indexesOf(connection, w)).toMatchObject({ state: 'open', callable: true, withSocket: true, openGauge: 1 });
    // The server speaks first on a resumed socket: the Sequence message.
    expect(JSON.parse(second.sent[0].toString().slice(0, -1))).toEqual({ type: 9, sequenceId: 1 });
    expect(w.moves).toEqual(['connecting->open', 'joined room', 'open->detached', 'detached->open']);
  });

  it('closes what missed entries: open ones with a close message, waiting sessions ended', () => {
    const w = world();
    const open = w.connections.accept(new FakeSocket(), 'c1', user, null, false);
    w.connections.handshaken(open, JSON_HUB_PROTOCOL, 1);
    const socket = new FakeSocket();
    const waiting = w.connections.accept(socket, 'c2', user, 'token', true);
    w.connections.handshaken(waiting, JSON_HUB_PROTOCOL, 2);
    socket.gone();
    expect(w.connections.closeForMissed(w.registry.all, 'missed')).toBe(2);
    expect([open.state, waiting.state]).toEqual(['closed', 'closed']);
    expect(w.registry.size).toBe(0);
    expect(w.userSockets.of('u1')).toBe(0);
    expect(w.sessions.waiting('token')).toBeUndefined();
  });

  it('lets go of a connection whose handshake never finished without telling anyone it was open', () => {
    const w = world();
    const socket = new FakeSocket();
    const connection = w.connections.accept(socket, 'c1', user, null, false);
    socket.gone();
    expect(indexesOf(connection, w)).toMatchObject({ state: 'closed', withSocket: false, userCount: 0, openGauge: 0 });
    expect(w.moves).toEqual(['connecting->closed']);
  });
});
