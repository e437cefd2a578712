import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime-streams/common';
import type { AuthenticatedUser } from '../../auth/access-token-verifier';
import type { StatefulSessionMetrics } from './stateful-sessions.metrics';
import type { ResolvedGatewayOptions } from '../../realtime-gateway-options.interface';
import type { HubConnection } from '../hub-connection';
import type { RealtimeTarget } from '@realtime-streams/contracts';
import { rebuildSession, type Rebuilt, type ReplaySource, type ResumeFailure } from './session-replay';
import type { SessionRecord } from './session-record';
import { SessionStore, type SessionWrite } from './session-store';
import { StatefulSession } from './stateful-session';
import type { StreamPositions } from './stream-positions';

/** How often acks go to clients and checkpoints to Redis (the protocol's "about once a second"). */
const TICK_MS = 1000;
/** A session's record is rewritten at least this often, so it outlives a crash by the reconnect window. */
const REFRESH_EVERY_MS = 5000;

/**
 * Stateful-reconnect sessions of this instance: creates them, acks client messages about once a second, keeps
 * their state in Redis, ends a session whose socket stayed away past the reconnect window, resumes sessions from
 * another instance's record, and hands every session over on shutdown. Connections change state only through their
 * owner (HubConnections): a session that must end asks its connection to close.
 *
 * What Redis receives per connected session is bounded whatever the client does: a whole record at most once per
 * tick (and every few seconds to keep it alive), capped in size; between two, at most one mark of a few bytes that
 * the record is behind. Never a write per invocation or per message.
 */
export class StatefulSessions {
  private readonly logger = new Logger('RealtimeSessions');
  private readonly local = new Map<string, HubConnection>();
  private readonly lastWritten = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    readonly options: ResolvedGatewayOptions['statefulReconnect'],
    private readonly metrics: StatefulSessionMetrics,
    /** Without Redis: sessions resume on this instance only. */
    private readonly store?: SessionStore,
    private readonly positions?: StreamPositions,
    private readonly replay?: Omit<ReplaySource, 'store'>,
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Whether the connection token's session can be looked up on other instances. */
  get shared(): boolean {
    return this.store !== undefined;
  }

  async start(): Promise<void> {
    await this.store?.start();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.store?.stop();
  }

  /** A connection whose handshake asked for version 2 on a token negotiated with stateful reconnect. */
  begin(connection: HubConnection, token: string): void {
    const hash = SessionStore.hash(token);
    connection.session = new StatefulSession(hash, connection.id, connection.codec, {
      at: this.positions?.current(),
    });
    connection.session.keptBy(this.markBehind);
    this.local.set(hash, connection);
    this.writeNow(connection);
  }

  /** A session's socket went without a close message: it waits for the client, here or elsewhere. */
  detached(connection: HubConnection, now: number): void {
    const session = connection.session!;
    const pos = this.positions?.current();
    if (!this.store || !pos) return;
    // Past an entry it has not got (see StatefulSession.waitForOrder): it resumes here only, elsewhere it starts over.
    if (!session.recordable) return this.store.remove(session.tokenHash);
    const record = session.detachedRecord(this.store.owner, connection.user.id, connection.groups, pos, now);
    const write = this.serialized(session.tokenHash, record, 'detached');
    // Too large for Redis: it resumes here only; elsewhere the client finds nothing and starts over.
    if (write) this.store.saveNow(write, (error) => this.writeFailed(error));
    else this.store.remove(session.tokenHash);
    session.unrecorded = false;
    this.lastWritten.set(session.tokenHash, now);
  }

  /** The session is over (the client closed it, it overflowed, it expired): forget it here and in Redis. */
  ended(connection: HubConnection): void {
    const hash = connection.session?.tokenHash;
    if (!hash || this.local.get(hash) !== connection) return;
    this.local.delete(hash);
    this.lastWritten.delete(hash);
    this.store?.remove(hash);
  }

  /** A session of this instance waiting for its socket, if the token names one. */
  waiting(token: string): HubConnection | undefined {
    const connection = this.local.get(SessionStore.hash(token));
    return connection?.state === 'detached' ? connection : undefined;
  }

  /** The session of this instance the token names, if it still has its socket. */
  connectedHere(token: string): HubConnection | undefined {
    const connection = this.local.get(SessionStore.hash(token));
    return connection?.state === 'open' ? connection : undefined;
  }

  /**
   * Claims a session recorded by another instance (or by this one before a restart): from now on that instance's
   * writes for it are refused. Undefined with the reason when there is nothing to resume.
   */
  async claim(token: string, user: AuthenticatedUser): Promise<SessionRecord | ResumeFailure> {
    if (!this.store || !this.replay) return 'unknown';
    try {
      return await this.store.claim(SessionStore.hash(token), user.id);
    } catch {
      return 'redis';
    }
  }

  /** Rebuilds a claimed session from its record and the stream (see rebuildSession). */
  rebuild(token: string, record: SessionRecord): Promise<Rebuilt> {
    return rebuildSession(record, SessionStore.hash(token), record.userId, {
      ...this.replay!,
      store: this.store!,
      holds: this.orderHolds,
    });
  }

  /** Takes a negotiated token in Redis (see SessionStore.takeNegotiated). */
  async takeNegotiated(token: string) {
    return this.store?.takeNegotiated(SessionStore.hash(token));
  }

  /** Tells other instances about a negotiated token (a load balancer may send the WebSocket anywhere). */
  negotiated(token: string, record: { connectionId: string; userId: string; stateful: boolean }, ttlMs: number): void {
    this.store?.rememberNegotiated(SessionStore.hash(token), record, ttlMs);
  }

  failed(reason: ResumeFailure | 'expired'): void {
    this.metrics.resumeFailed(reason);
  }

  /** A resumed session now lives here. */
  adopt(connection: HubConnection): void {
    connection.session!.keptBy(this.markBehind);
    this.local.set(connection.session!.tokenHash, connection);
    this.writeNow(connection);
  }

  /** Records the session at once (it began, or it was resumed here from another instance's record). */
  writeNow(connection: HubConnection): void {
    const session = connection.session;
    if (!this.store || !session || session.detachedAt !== undefined) return;
    const now = Date.now();
    const record = session.liveRecord(this.store.owner, connection.user.id, now);
    if (!record) return;
    const write = this.serialized(session.tokenHash, record, 'checkpoint');
    if (write) this.store.saveNow(write, (error) => this.writeFailed(error));
    session.dirty = session.unrecorded = false;
    this.lastWritten.set(session.tokenHash, now);
  }

  /**
   * Tells Redis a session's record is behind (see StatefulSession.diverge), a session waiting for its socket too:
   * its detached record does not show the change either.
   */
  private readonly markBehind = (session: StatefulSession): boolean => {
    if (!this.store) return false;
    this.store.markBehind(session.tokenHash, (error) => this.writeFailed(error));
    this.metrics.sessionWritten('behind');
    return true;
  };

  /** A record as it goes to Redis, counted; undefined (and counted) when it is over the size bound. */
  private serialized(hash: string, record: SessionRecord, kind: 'checkpoint' | 'detached'): SessionWrite | undefined {
    const json = JSON.stringify(record);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.options.maxRecordBytes) {
      this.metrics.sessionWritten('too_large');
      this.logger.debug(`Session record of ${bytes} bytes not written (bound ${this.options.maxRecordBytes})`);
      return undefined;
    }
    this.metrics.sessionWritten(kind, bytes);
    return { hash, userId: record.userId, json };
  }

  /** Set by the module: whether delivery holds a target's envelopes for an earlier one now (see TargetOrder). */
  orderHolds?: (target: RealtimeTarget) => boolean;

  /** Current consumer positions, for a completion's or a group change's place in a replay. */
  position() {
    return this.positions?.current();
  }

  /**
   * Shutdown: records every connected session exactly (its unacknowledged messages and where the consumer
   * stands), then cuts the sockets without a close message, so clients resume on another instance.
   */
  async handOver(timeoutMs: number): Promise<number> {
    clearInterval(this.timer);
    await this.flushing;
    const now = Date.now();
    const pos = this.positions?.current();
    const connected = [...this.local.values()].filter((c) => c.isOpen);
    if (!this.store || !pos || connected.length === 0) return 0;
    const records: SessionWrite[] = [];
    for (const c of connected) {
      // Not exact (see StatefulSession.waitForOrder): its last record is marked behind, so the client starts over.
      if (!c.session!.recordable) continue;
      const record = c.session!.detachedRecord(this.store.owner, c.user.id, c.groups, pos, now);
      const write = this.serialized(c.session!.tokenHash, record, 'detached');
      if (write) records.push(write);
    }
    try {
      await Promise.race([
        this.store.save(records),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs)),
      ]);
    } catch (error) {
      this.logger.warn(`Shutdown: sessions not handed over (${errorMessage(error)}); clients will start over`);
      return 0;
    }
    for (const connection of connected) {
      this.local.delete(connection.session!.tokenHash);
      connection.cut();
    }
    return connected.length;
  }

  /** Once a second: acks to clients, expired sessions, batched checkpoints, the buffer gauge. */
  private async tick(): Promise<void> {
    const now = Date.now();
    let buffered = 0;
    // While the last checkpoints are still on their way, none are taken: flags stay set for the next tick.
    const checkpoint = this.store !== undefined && !this.flushing;
    const due: SessionWrite[] = [];
    for (const [hash, connection] of this.local) {
      const session = connection.session!;
      buffered += session.heldBytes;
      if (session.detachedAt !== undefined) {
        if (now - session.detachedAt > this.options.windowMs) {
          this.metrics.resumeFailed('expired');
          // Its owner ends it, and tells this class (ended), which forgets it here and in Redis.
          connection.terminate();
        }
        continue;
      }
      const ack = connection.isOpen ? session.takeAckDue() : undefined;
      if (ack !== undefined) connection.send(connection.codec.ack(ack), now);
      const stale = now - (this.lastWritten.get(hash) ?? 0) >= REFRESH_EVERY_MS;
      if (checkpoint && (session.dirty || stale)) {
        const record = session.liveRecord(this.store.owner, connection.user.id, now);
        const write = record && this.serialized(hash, record, 'checkpoint');
        if (write) due.push(write);
        // Not written when too large: Redis keeps the last record and its mark, so a crash resume is refused.
        if (write || !record) session.dirty = session.unrecorded = false;
      }
    }
    this.metrics.replayBuffered(buffered);
    if (!checkpoint || due.length === 0) return;
    this.flushing = this.flush(due, now).finally(() => (this.flushing = undefined));
  }

  private async flush(due: SessionWrite[], now: number): Promise<void> {
    try {
      const lost = await this.store!.save(due);
      for (const { hash } of due) this.lastWritten.set(hash, now);
      // Another instance resumed these sessions (this one held a socket the client had given up on).
      for (const hash of lost) {
        const connection = this.local.get(hash);
        // Forgotten first: ending it must not remove the record the other instance now owns.
        this.local.delete(hash);
        connection?.terminate();
      }
    } catch (error) {
      this.writeFailed(error);
    }
  }

  private writeFailed(error: unknown): void {
    this.logger.debug(`Session record not written: ${errorMessage(error)}`);
  }
}
