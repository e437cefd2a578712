import { Logger } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/access-token-verifier';
import type { ConnectionRegistry } from './connection-registry';
import type { CloseOptions, ConnectionBounds, ConnectionOverflow, ConnectionOwner } from './connection-owner';
import type { ConnectionState } from './connection-state';
import { HubConnection } from './hub-connection';
import type { HubMetrics } from './hub.metrics';
import { InvocationBudget } from './invocation-budget';
import { mayConnect } from './negotiate.handler';
import type { NegotiatedConnections } from './negotiated-connections';
import type { HubProtocolCodec } from './protocols/hub-protocol-codec';
import { targetKeysOf, type ResumeFailure } from './session/session-replay';
import type { SessionRecord } from './session/session-record';
import type { StatefulSessions } from './session/stateful-sessions';
import type { HubSocket } from './transports/hub-socket';
import type { UserConnectionCounter } from './user-connection-counter';
import type { ShardInterest } from '../stream/shard-interest';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';

/**
 * Told of every change of a connection's state and groups, after the owner's own bookkeeping: the place for what
 * follows connections (presence, per-connection accounting). Called synchronously; must not throw.
 */
export interface ConnectionObserver {
  moved?(connection: HubConnection, from: ConnectionState, to: ConnectionState): void;
  joined?(connection: HubConnection, group: string): void;
  left?(connection: HubConnection, group: string): void;
}

/** What the owner enforces per connection. */
export type ConnectionPolicy = Pick<ResolvedGatewayOptions, 'limits' | 'slowClients' | 'statefulReconnect'>;

/** A session rebuilt from another instance's record, waiting for the socket of the request that resumed it. */
export type ResumedElsewhere = { connection: HubConnection; replayed: number };

/**
 * Every connection of this instance, and the one owner of their life: each change of state (see ConnectionState)
 * happens here with all that follows from it, so no index can disagree with another. It keeps:
 * - the registry (routing by group and user): a connection is in it while it is routable;
 * - the open connections by id, for hub method calls;
 * - the connections that hold a socket, for keep-alive and shutdown;
 * - the per-user count (from open, or from a resume's admission, until closed);
 * - the open-connections metric, the stateful session's begin, detach and end;
 * - what observers are told.
 */
export class HubConnections implements ConnectionOwner {
  private readonly logger = new Logger('RealtimeHub');
  readonly bounds: ConnectionBounds;
  private readonly withSocket = new Set<HubConnection>();
  private readonly openById = new Map<string, HubConnection>();
  /** Connections counted against their user's bound. */
  private readonly counted = new WeakSet<HubConnection>();
  private readonly observers: ConnectionObserver[] = [];

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly userSockets: UserConnectionCounter,
    private readonly negotiated: NegotiatedConnections,
    private readonly sessions: StatefulSessions,
    private readonly metrics: HubMetrics,
    private readonly policy: ConnectionPolicy,
    /** Interest routing, when on: the shards a target needs are read before it becomes present here. */
    private readonly interest?: ShardInterest,
  ) {
    this.bounds = {
      softLimitBytes: policy.slowClients.softLimitBytes,
      hardLimitBytes: policy.slowClients.hardLimitBytes,
      replayBufferBytes: policy.statefulReconnect.bufferBytes,
    };
  }

  /** Adds an observer of every connection's life (see ConnectionObserver). */
  observe(observer: ConnectionObserver): void {
    this.observers.push(observer);
  }

  /** Connections that hold a socket now, open or still in their handshake. */
  get sockets(): ReadonlySet<HubConnection> {
    return this.withSocket;
  }

  /** The open connection with this id (a hub method's caller), if any. */
  find(id: string): HubConnection | undefined {
    return this.openById.get(id);
  }

  /**
   * Makes sure the stream shards of these targets (routing keys: `group:<name>`, `user:<id>`, `all`) are read before
   * it resolves: awaited before a connection is admitted, a group joined, or a session rebuilt, so nothing appended
   * after that is missed (see ShardInterest). Resolves at once without interest routing.
   */
  prepare(targetKeys: Iterable<string>, holdMs?: number): Promise<void> {
    return this.interest ? this.interest.prepare(targetKeys, holdMs) : Promise.resolve();
  }

  /** Whether the user may have one more connection: open ones plus tokens negotiated and not connected yet. */
  mayConnect(userId: string): boolean {
    return mayConnect(userId, this.userSockets, this.negotiated, this.policy.limits.maxConnectionsPerUser);
  }

  /** A socket was admitted (`connecting`): its handshake decides the protocol, and the session when `stateful`. */
  accept(
    socket: HubSocket,
    id: string,
    user: AuthenticatedUser,
    token: string | null,
    stateful: boolean,
  ): HubConnection {
    const connection = this.create(id, user, socket);
    connection.socketToken = token;
    connection.statefulToken = stateful && token ? token : undefined;
    this.count(connection);
    this.listen(connection, socket);
    return connection;
  }

  /**
   * The handshake chose `codec` (`connecting` → `open`): routable from now on. Version 2 on a token negotiated
   * with stateful reconnect (WebSockets only, as in the client) begins a session: messages are numbered from now.
   */
  handshaken(connection: HubConnection, codec: HubProtocolCodec, version: number): void {
    connection.codec = codec;
    const token = connection.statefulToken;
    if (token && version === 2 && connection.transport === 'WebSockets') this.sessions.begin(connection, token);
    this.registry.add(connection);
    this.move(connection, 'open');
  }

  /**
   * A session recorded elsewhere (or here before a restart), claimed in Redis: rebuilt here (`resuming`). It joins
   * its groups before the stream is read, holding live messages, so nothing delivered meanwhile is missed; then it
   * waits (`detached`) for the socket of the request that resumed it. The user's place was taken when the resume
   * was admitted (`reserve`): the connection holds it from now on, and gives it back when it ends.
   */
  async resumeElsewhere(
    token: string,
    user: AuthenticatedUser,
    record: SessionRecord,
    groups: Iterable<string>,
    codec: HubProtocolCodec,
  ): Promise<ResumedElsewhere | ResumeFailure> {
    // Every shard the replay reads is read live from before it: what the replay does not cover, live reading does.
    await this.prepare(targetKeysOf(record));
    const connection = this.create(record.connectionId, user, undefined);
    // Before anything is held: held messages are framed in the session's protocol.
    connection.codec = codec;
    this.counted.add(connection);
    this.registry.add(connection);
    for (const group of groups) this.registry.join(connection, group);
    const rebuilt = await this.sessions.rebuild(token, record);
    // Ended meanwhile: what arrived while the stream was read passed the replay buffer.
    if (!rebuilt.ok || connection.ended) {
      const reason = rebuilt.ok ? 'overflow' : rebuilt.reason;
      this.end(connection);
      this.logger.warn(`Session of ${user.id} not resumed: ${reason}`);
      return reason;
    }
    connection.replayDone(rebuilt.session, { upTo: rebuilt.readUpTo, ids: rebuilt.ids }, Date.now());
    this.sessions.adopt(connection);
    this.move(connection, 'detached');
    return { connection, replayed: rebuilt.replayed };
  }

  /**
   * Takes the user's place for a resume being admitted, before anything is awaited, so resumes in parallel cannot
   * pass the bound together; `unreserve` gives it back when there turns out to be nothing to resume.
   */
  reserve(userId: string): void {
    this.userSockets.add(userId);
  }

  unreserve(userId: string): void {
    this.userSockets.remove(userId);
  }

  /**
   * The client of a waiting session came back (`detached` → `open`, stateful reconnect: no handshake). The server
   * speaks first: Sequence with the id of the oldest message not acknowledged, then every such message.
   */
  attach(
    connection: HubConnection,
    socket: HubSocket,
    user: AuthenticatedUser,
    instance: 'same' | 'other',
    replayed?: number,
  ): void {
    if (connection.state !== 'detached') return socket.terminate();
    const now = Date.now();
    connection.attach(socket, user, now);
    this.count(connection);
    this.listen(connection, socket);
    this.move(connection, 'open');
    const session = connection.session!;
    connection.send(connection.codec.sequence(session.acked + 1), now);
    let resent = 0;
    for (const frame of session.unacked()) {
      connection.send(frame, now);
      resent++;
    }
    this.metrics.sessionResumed(instance, replayed ?? resent);
  }

  /**
   * The client resumes while this instance still holds its old socket (a cut it has not noticed yet): the client
   * knows best, so the old socket goes and the session waits for the new one.
   */
  replaceSocket(connection: HubConnection): void {
    const socket = connection.attachedSocket;
    if (!socket) return;
    this.socketGone(connection, socket);
    socket.terminate();
  }

  join(connection: HubConnection, group: string): void {
    if (connection.groups.has(group) || connection.ended) return;
    // Redis is told the record is behind before the change takes effect (see StatefulSession.diverge).
    connection.session?.diverge();
    connection.session?.groupChanged('join', group, this.position());
    this.registry.join(connection, group);
    for (const observer of this.observers) observer.joined?.(connection, group);
  }

  leave(connection: HubConnection, group: string): void {
    if (!connection.groups.has(group)) return;
    connection.session?.diverge();
    connection.session?.groupChanged('leave', group, this.position());
    this.registry.leave(connection, group);
    for (const observer of this.observers) observer.left?.(connection, group);
  }

  close(connection: HubConnection, reason: string | undefined, options: CloseOptions): void {
    if (connection.ended) return;
    connection.shutSocket(reason, options);
    this.end(connection);
  }

  terminate(connection: HubConnection): void {
    if (connection.ended) return;
    connection.terminateSocket();
    this.end(connection);
  }

  /**
   * Closes the given routable connections with a close message the client reconnects on, carrying `reason`; returns
   * how many. Sessions waiting for their socket cannot be replayed past what is missed either: they end (the resume
   * gets 404 and the client starts over and re-fetches).
   */
  closeForMissed(connections: Iterable<HubConnection>, reason: string): number {
    let closed = 0;
    for (const connection of [...connections]) {
      if (connection.state === 'open' && connection.isOpen) connection.close(reason);
      // Without a socket, or with one already going: a session would wait for its client, past what it missed.
      else if (connection.session || connection.state === 'resuming') this.terminate(connection);
      else continue;
      closed++;
    }
    return closed;
  }

  /**
   * Shutdown: closes every socket with a reason clients may reconnect on, giving them `graceMs` to complete the
   * close handshake; the rest are cut.
   */
  async closeEverySocket(reason: string, graceMs: number): Promise<void> {
    for (const connection of [...this.withSocket]) connection.close(reason);
    const deadline = Date.now() + graceMs;
    while (this.withSocket.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of [...this.withSocket]) connection.attachedSocket?.terminate();
  }

  overflowed(connection: HubConnection, bound: ConnectionOverflow, bytes: number): void {
    const who = `connection ${connection.id} of ${connection.user.id}`;
    if (bound === 'replay_buffer') {
      this.metrics.clientLimitHit('replay_buffer');
      this.logger.warn(`Closing ${who}: ${bytes} bytes held for a resume, over the replay buffer`);
      // Not cut: the client reads (one that does not is cut at the hard bound), so it gets the close message and
      // starts a new connection (and re-fetches); the session is gone here and in Redis, so a resume gets 404.
      if (connection.isOpen)
        connection.close(`Connection closed: ${bytes} bytes held for a resume, over the replay buffer.`);
      else this.terminate(connection);
      return;
    }
    this.metrics.slowClientDisconnected();
    this.logger.warn(`Closing ${who}: ${bytes} bytes not read`);
    connection.close(`Connection closed: the client did not read ${bytes} bytes of pending messages.`, { cut: true });
  }

  skippedVolatile(): void {
    this.metrics.slowClientDropped();
  }

  position() {
    return this.sessions.position();
  }

  private create(id: string, user: AuthenticatedUser, socket: HubSocket | undefined): HubConnection {
    const now = Date.now();
    const { invocationsPerSecond, invocationBurst } = this.policy.limits;
    const invocations = new InvocationBudget(invocationsPerSecond, invocationBurst, now);
    return new HubConnection({ id, user, socket, now, invocations, owner: this });
  }

  private listen(connection: HubConnection, socket: HubSocket): void {
    this.withSocket.add(connection);
    socket.onClose(() => this.socketGone(connection, socket));
  }

  /**
   * A connection's socket went (closed, cut, or replaced by the client's resume). A session that was not closed
   * waits for its client (`detached`), here or on another instance; anything else is over.
   */
  private socketGone(connection: HubConnection, socket: HubSocket): void {
    if (!connection.isSocket(socket)) return;
    this.withSocket.delete(connection);
    if (connection.socketToken) this.negotiated.release(connection.socketToken);
    connection.socketToken = null;
    const now = Date.now();
    // Moved before the socket is let go: the metric is labelled with its transport.
    if (connection.state === 'open' && connection.session) {
      this.move(connection, 'detached');
      connection.detach(now);
      this.sessions.detached(connection, now);
      return;
    }
    this.end(connection);
    connection.detach(now);
  }

  /** `closed`: out of every index, its user's place free, its session forgotten here and in Redis. */
  private end(connection: HubConnection): void {
    if (connection.ended) return;
    this.move(connection, 'closed');
    this.registry.remove(connection);
    if (this.counted.delete(connection)) this.userSockets.remove(connection.user.id);
    if (connection.session) this.sessions.ended(connection);
  }

  /** Moves a connection, with what entering and leaving `open` mean for the id index and the metric. */
  private move(connection: HubConnection, to: ConnectionState): void {
    const from = connection.state;
    if (from === 'open') {
      this.openById.delete(connection.id);
      this.metrics.connectionClosed({ protocol: connection.codec.name, transport: connection.transport ?? 'none' });
    }
    connection.moveTo(to);
    if (to === 'open') {
      this.openById.set(connection.id, connection);
      this.metrics.connectionOpened({ protocol: connection.codec.name, transport: connection.transport ?? 'none' });
    }
    this.tell(connection, from, to);
  }

  private count(connection: HubConnection): void {
    if (this.counted.has(connection)) return;
    this.counted.add(connection);
    this.userSockets.add(connection.user.id);
  }

  private tell(connection: HubConnection, from: ConnectionState, to: ConnectionState): void {
    for (const observer of this.observers) observer.moved?.(connection, from, to);
  }
}
