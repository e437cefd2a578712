import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  closeRedis,
  createFailFastRedis,
  errorMessage,
  isCluster,
  type RedisConnection,
} from '@realtime-streams/common';
import type { RedisConnectionOptions } from '@realtime-streams/common';
import type Redis from 'ioredis';
import { parseSessionRecord, type SessionRecord } from './session-record';

/*
 * A session is one hash: `o` the instance that owns it, `u` its user, `r` the record (JSON), and `d` while the
 * owner has done something the record does not show yet (see markBehind). Owner and user are fields of their own
 * so the scripts compare them without decoding the record.
 */

/** Writes a record unless another instance took the session over; a record is whole, so it clears `d`. */
const SAVE_IF_OWNER = `
local owner = redis.call('HGET', KEYS[1], 'o')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'u', ARGV[2], 'r', ARGV[3])
redis.call('HDEL', KEYS[1], 'd')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** The owner's record is behind what the client saw (a few bytes, once per checkpoint interval at most). */
const MARK_BEHIND = `
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'd', '1')
return 1`;

/**
 * Takes a session over: checks the user, then names the caller its owner and returns the record, in one step (two
 * resumes: one wins). A refusal changes nothing: a stranger's resume cannot end the owner's session.
 */
const CLAIM = `
local fields = redis.call('HMGET', KEYS[1], 'u', 'r', 'd')
if not fields[2] then return {'unknown'} end
if fields[1] ~= ARGV[2] then return {'wrong_user'} end
if fields[3] then return {'behind'} end
redis.call('HSET', KEYS[1], 'o', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'ok', fields[2]}`;

/** Why a claim took nothing (see CLAIM). */
export type ClaimRefusal = 'unknown' | 'wrong_user' | 'behind';

/** A record ready to write: serialized once, so its size is known before it goes. */
export interface SessionWrite {
  hash: string;
  userId: string;
  json: string;
}

/** A negotiated connection token, for the instance the client's WebSocket reaches. */
export interface NegotiatedRecord {
  connectionId: string;
  userId: string;
  stateful: boolean;
}

/** One shard's entries as XRANGE returns them: `[id, [field, value, ...]]`, oldest first. */
export type StreamEntries = Array<[string, string[]]>;

type Scripted = RedisConnection & {
  saveSessionIfOwner(key: string, owner: string, userId: string, json: string, ttlMs: number): Promise<number>;
  markSessionBehind(key: string, owner: string): Promise<number>;
  claimSession(key: string, owner: string, userId: string, ttlMs: number): Promise<[string, string?]>;
};

/**
 * Sessions and negotiated tokens in Redis, on a connection of its own (the consumer's is blocked in XREADGROUP).
 * Keys hold a hash of the connection token, never the token: whoever reads Redis cannot resume a session.
 * Writes are fire-and-forget where the caller says so: ioredis writes the command to the socket at once, so a
 * record issued before a client socket write is on its way to Redis even if this process is killed right after.
 */
export class SessionStore {
  private readonly logger = new Logger('RealtimeSessions');
  private readonly redis: Scripted;

  constructor(
    connection: string | RedisConnectionOptions,
    private readonly prefix: string,
    readonly owner: string,
    /** How long a record outlives its last write: the reconnect window plus the time between writes. */
    private readonly ttlMs: number,
  ) {
    this.redis = createFailFastRedis(connection, `realtime-sessions:${owner}`) as Scripted;
    this.redis.defineCommand('saveSessionIfOwner', { numberOfKeys: 1, lua: SAVE_IF_OWNER });
    this.redis.defineCommand('markSessionBehind', { numberOfKeys: 1, lua: MARK_BEHIND });
    this.redis.defineCommand('claimSession', { numberOfKeys: 1, lua: CLAIM });
    this.redis.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
  }

  async start(): Promise<void> {
    await this.redis.connect().catch((error: unknown) => this.logger.warn(`Session store: ${errorMessage(error)}`));
  }

  async stop(): Promise<void> {
    await closeRedis(this.redis);
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /**
   * Saves records in one round trip; resolves to the hashes of sessions another instance took over (this one must
   * let them go). Rejects when Redis cannot be written.
   */
  async save(records: readonly SessionWrite[]): Promise<string[]> {
    if (records.length === 0) return [];
    if (isCluster(this.redis)) return this.saveEach(records);
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      saveSessionIfOwner(key: string, owner: string, userId: string, json: string, ttlMs: number): unknown;
    };
    for (const { hash, userId, json } of records) {
      pipeline.saveSessionIfOwner(this.sessionKey(hash), this.owner, userId, json, this.ttlMs);
    }
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    replies.forEach(([error, saved], i) => {
      if (error) throw error;
      if (saved === 0) lost.push(records[i].hash);
    });
    return lost;
  }

  /**
   * Cluster: sessions hash to slots all over the cluster, and a pipeline must stay on one node's slots; each save is
   * its own command (ioredis writes those for one node together on its socket).
   */
  private async saveEach(records: readonly SessionWrite[]): Promise<string[]> {
    const saved = await Promise.all(
      records.map(({ hash, userId, json }) =>
        this.redis.saveSessionIfOwner(this.sessionKey(hash), this.owner, userId, json, this.ttlMs),
      ),
    );
    return records.filter((_, i) => saved[i] === 0).map(({ hash }) => hash);
  }

  /** Issues a save now without waiting (see the class comment); failures are logged and counted by the caller. */
  saveNow({ hash, userId, json }: SessionWrite, onError: (error: unknown) => void): void {
    if (!this.ready) return onError(new Error(`Redis connection is ${this.redis.status}`));
    this.redis.saveSessionIfOwner(this.sessionKey(hash), this.owner, userId, json, this.ttlMs).catch(onError);
  }

  /**
   * Tells Redis, without waiting, that the session's record is behind: the owner ran an invocation, sent a
   * completion or changed a group after it. Issued before the effect reaches the client, on the connection later
   * saves take, so it lands between the record it follows and the one that covers it. A crash resume of a record
   * marked so is refused: the client starts over rather than run a call twice or get a message numbered wrong.
   */
  markBehind(hash: string, onError: (error: unknown) => void): void {
    if (!this.ready) return onError(new Error(`Redis connection is ${this.redis.status}`));
    this.redis.markSessionBehind(this.sessionKey(hash), this.owner).catch(onError);
  }

  /** Takes a session over for this instance, if it is the user's and its record is whole. */
  async claim(hash: string, userId: string): Promise<SessionRecord | ClaimRefusal> {
    const [status, json] = await this.redis.claimSession(this.sessionKey(hash), this.owner, userId, this.ttlMs);
    if (status !== 'ok') return status as ClaimRefusal;
    return parseSessionRecord(json ?? null) ?? 'unknown';
  }

  /** The session ended for good (the client closed it, or it can no longer be resumed). */
  remove(hash: string): void {
    if (this.ready) this.redis.del(this.sessionKey(hash)).catch(() => undefined);
  }

  rememberNegotiated(hash: string, record: NegotiatedRecord, ttlMs: number): void {
    if (this.ready)
      this.redis.set(this.negotiatedKey(hash), JSON.stringify(record), 'PX', ttlMs).catch(() => undefined);
  }

  /**
   * A negotiated token, taken once by whichever instance its WebSocket reaches: the record, `null` when another
   * instance took it (or it expired), undefined when Redis cannot say.
   */
  async takeNegotiated(hash: string): Promise<NegotiatedRecord | null | undefined> {
    if (!this.ready) return undefined;
    const json = await this.redis.getdel(this.negotiatedKey(hash)).catch(() => undefined);
    if (json === undefined) return undefined;
    if (json === null) return null;
    try {
      const record = JSON.parse(json) as NegotiatedRecord;
      return typeof record.connectionId === 'string' && typeof record.userId === 'string' ? record : null;
    } catch {
      return null;
    }
  }

  /** Stream entries after `after` (exclusive), at most `count`: what a resume replays. */
  async entriesAfter(
    keys: readonly string[],
    after: Readonly<Record<string, string>>,
    count: number,
  ): Promise<StreamEntries[]> {
    // Cluster: the shards' keys hash to slots on several nodes, and ioredis refuses a pipeline across nodes; each
    // read is its own command (ioredis writes those for one node together on its socket), awaited together.
    if (isCluster(this.redis))
      return Promise.all(
        keys.map((key) => this.redis.xrange(key, `(${after[key]}`, '+', 'COUNT', count) as Promise<StreamEntries>),
      );
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.xrange(key, `(${after[key]}`, '+', 'COUNT', count);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, entries]) => {
      if (error) throw error;
      return entries as StreamEntries;
    });
  }

  /** `sessions:` (a hash), not the `session:` strings of earlier versions: a rolling upgrade never mixes the two. */
  private sessionKey(hash: string): string {
    return `${this.prefix}:sessions:${hash}`;
  }

  private negotiatedKey(hash: string): string {
    return `${this.prefix}:negotiated:${hash}`;
  }
}
