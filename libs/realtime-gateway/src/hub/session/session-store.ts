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

/** Writes a record unless another instance took the session over (its owner field names someone else). */
const SAVE_IF_OWNER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and decoded.owner ~= ARGV[2] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

/** Takes a session over: returns the record and names the caller its owner, atomically (two resumes: one wins). */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if not current then return false end
local ok, decoded = pcall(cjson.decode, current)
if not ok then return false end
decoded.owner = ARGV[1]
decoded.state = 'claimed'
redis.call('SET', KEYS[1], cjson.encode(decoded), 'PX', ARGV[2])
return current`;

/** A negotiated connection token, for the instance the client's WebSocket reaches. */
export interface NegotiatedRecord {
  connectionId: string;
  userId: string;
  stateful: boolean;
}

type Scripted = RedisConnection & {
  saveSessionIfOwner(key: string, json: string, owner: string, ttlMs: number): Promise<number>;
  claimSession(key: string, owner: string, ttlMs: number): Promise<string | null>;
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
  async save(records: ReadonlyArray<[hash: string, record: SessionRecord]>): Promise<string[]> {
    if (records.length === 0) return [];
    if (isCluster(this.redis)) return this.saveEach(records);
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      saveSessionIfOwner(key: string, json: string, owner: string, ttlMs: number): unknown;
    };
    for (const [hash, record] of records) {
      pipeline.saveSessionIfOwner(this.sessionKey(hash), JSON.stringify(record), this.owner, this.ttlMs);
    }
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    replies.forEach(([error, saved], i) => {
      if (error) throw error;
      if (saved === 0) lost.push(records[i][0]);
    });
    return lost;
  }

  /**
   * Cluster: sessions hash to slots all over the cluster, and a pipeline must stay on one node's slots; each save is
   * its own command (ioredis writes those for one node together on its socket).
   */
  private async saveEach(records: ReadonlyArray<[hash: string, record: SessionRecord]>): Promise<string[]> {
    const saved = await Promise.all(
      records.map(([hash, record]) =>
        this.redis.saveSessionIfOwner(this.sessionKey(hash), JSON.stringify(record), this.owner, this.ttlMs),
      ),
    );
    return records.filter((_, i) => saved[i] === 0).map(([hash]) => hash);
  }

  /** Issues a save now without waiting (see the class comment); failures are logged and counted by the caller. */
  saveNow(hash: string, record: SessionRecord, onError: (error: unknown) => void): void {
    if (!this.ready) return onError(new Error(`Redis connection is ${this.redis.status}`));
    this.redis.saveSessionIfOwner(this.sessionKey(hash), JSON.stringify(record), this.owner, this.ttlMs).catch(onError);
  }

  /** Takes a session over for this instance; undefined when there is none (expired, ended, never existed). */
  async claim(hash: string): Promise<SessionRecord | undefined> {
    const json = await this.redis.claimSession(this.sessionKey(hash), this.owner, this.ttlMs);
    return parseSessionRecord(json);
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
  ): Promise<Array<Array<[string, string[]]>>> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.xrange(key, `(${after[key]}`, '+', 'COUNT', count);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, entries]) => {
      if (error) throw error;
      return entries as Array<[string, string[]]>;
    });
  }

  private sessionKey(hash: string): string {
    return `${this.prefix}:session:${hash}`;
  }

  private negotiatedKey(hash: string): string {
    return `${this.prefix}:negotiated:${hash}`;
  }
}
