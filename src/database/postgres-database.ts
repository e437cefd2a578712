import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { DatabaseUnavailableError } from './database-unavailable.error';
import { isUnavailable } from './postgres-errors';
import { createSchema } from './postgres.schema';

/**
 * Connections per process: a burst of requests waits for one rather than opening more, so several instances stay
 * well under the server's `max_connections` (100 by default).
 */
const POOL_MAX = 10;
/** Longer than this without a connection (none free, or the server does not answer) is a 503, not a hung request. */
const CONNECT_TIMEOUT_MS = 5000;
/** A statement whose answer never comes (a frozen server, a link gone without a reset) fails; its connection goes. */
const QUERY_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 30_000;

interface Transaction {
  readonly client: PoolClient;
  done: boolean;
}

/**
 * The service's PostgreSQL pool (`DATABASE_URL`), shared by messages, rooms and the outbox. `transaction(work)`
 * runs `work` on one connection, and every `query` made inside it (through any repository) joins that transaction:
 * the same "one connection, one transaction" the SQLite store gets from its single connection, which is how a
 * message and its outbox record commit together without the repositories passing a client around.
 *
 * Errors that mean "the database is not there" become `DatabaseUnavailableError` (a 503), logged once per outage.
 */
export class PostgresDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('PostgresDatabase');
  private readonly pool: Pool;
  private readonly current = new AsyncLocalStorage<Transaction>();
  private unavailableSince?: number;
  private serving = false;
  private ended = false;

  private constructor(
    url: string,
    /** Host, port and database, for logs and errors (never the credentials). */
    readonly where: string,
  ) {
    this.pool = new Pool({
      connectionString: url,
      max: POOL_MAX,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle connection the server drops is reported here; without a listener it would crash the process.
    this.pool.on('error', (error) => this.logger.warn(`Idle PostgreSQL connection lost: ${error.message}`));
  }

  /**
   * Connects and creates the schema. Rejects, naming the server and `DATABASE_URL`, when PostgreSQL cannot be
   * reached: the process stops before it listens, as it does for an SQLite file it cannot open.
   */
  static async open(url: string): Promise<PostgresDatabase> {
    const database = new PostgresDatabase(url, whereOf(url));
    try {
      await createSchema(database);
    } catch (error) {
      await database.pool.end().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot use PostgreSQL at ${database.where} (DATABASE_URL): ${reason}`, { cause: error });
    }
    database.serving = true;
    database.logger.log(`Messages, rooms and the realtime outbox stored in PostgreSQL at ${database.where}`);
    return database;
  }

  /** The pool is closed (application shutdown): stores answer what they can without it. */
  get closed(): boolean {
    return this.ended;
  }

  /** Runs a statement, inside the current transaction if there is one. */
  async query<Row extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<Row>> {
    const transaction = this.current.getStore();
    // Work that outlives its transaction (a promise nobody awaited) must neither use a connection handed on nor
    // commit on its own what was meant to commit with the transaction.
    if (transaction?.done) throw new Error('PostgresDatabase: a query ran after its transaction ended (await it)');
    try {
      const result = await (transaction?.client ?? this.pool).query<Row>(text, values);
      this.reachable();
      return result;
    } catch (error) {
      throw this.translated(error);
    }
  }

  /**
   * Runs `work` in a transaction: committed when it resolves, rolled back when it throws (and the error rethrown).
   * Called inside another transaction, `work` joins it.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (outer && !outer.done) return work();
    const client = await this.connect();
    const transaction: Transaction = { client, done: false };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await this.current.run(transaction, work);
      await client.query('COMMIT');
      this.reachable();
      return result;
    } catch (error) {
      if (isUnavailable(error)) broken = error instanceof Error ? error : new Error(String(error));
      else await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw this.translated(error);
    } finally {
      transaction.done = true;
      // A connection that failed mid-transaction is dropped, never handed to the next request in an unknown state.
      client.release(broken);
    }
  }

  /** A round trip to the server, for `/health`. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async onApplicationShutdown(): Promise<void> {
    this.ended = true;
    await this.pool.end();
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.translated(error);
    }
  }

  private translated(error: unknown): unknown {
    if (error instanceof DatabaseUnavailableError || !isUnavailable(error)) return error;
    const reason = (error as Error).message;
    if (this.serving && !this.ended && this.unavailableSince === undefined) {
      this.unavailableSince = Date.now();
      this.logger.error(
        `PostgreSQL at ${this.where} is unavailable (${reason}): requests that need it answer 503 until it is back`,
      );
    }
    return new DatabaseUnavailableError(this.where, reason, { cause: error });
  }

  private reachable(): void {
    if (this.unavailableSince === undefined) return;
    const seconds = ((Date.now() - this.unavailableSince) / 1000).toFixed(1);
    this.unavailableSince = undefined;
    this.logger.log(`PostgreSQL at ${this.where} is reachable again (unavailable for ${seconds} s)`);
  }
}

/** `host:port/database` of a connection URL (a `?host=` socket directory counts as the host). */
function whereOf(url: string): string {
  const parsed = new URL(url);
  const host = parsed.searchParams.get('host') ?? (parsed.host || 'localhost');
  return parsed.pathname.length > 1 ? `${host}${parsed.pathname}` : host;
}
