/**
 * What an application stores in its outbox table, in the same transaction as the domain change: enough to publish
 * the envelope again, byte for byte and with the same id, after a crash.
 */
export interface OutboxRecord {
  /** The envelope id: the row's unique key, and the idempotency key the gateways deduplicate by. */
  readonly id: string;
  /** The event type (for logs and the operator; the envelope carries it too). */
  readonly type: string;
  /** The routing key (`group:<name>`, `user:<id>`, `all`) the transport, shard and percentage decisions hash. */
  readonly targetKey: string;
  /** The envelope exactly as the mapper serialized it. Republished as is. */
  readonly json: string;
}

/**
 * Position of a record in the store, chosen by the store: e.g. an `INTEGER PRIMARY KEY AUTOINCREMENT` column
 * (SQLite) or an identity column (PostgreSQL). It must grow with every insert and never be reused: the relay reads
 * "after the last cursor it saw".
 */
export type OutboxCursor = number | bigint | string;

/** A record as the store returns it, with its position. */
export interface StoredOutboxRecord extends OutboxRecord {
  readonly cursor: OutboxCursor;
}

/**
 * The application's outbox table, seen by the library. Implement it over the database the domain change is written
 * to (see the README, "Durable accept"). Methods may answer synchronously (better-sqlite3) or with a promise.
 *
 * The library never inserts: the application does, in its own transaction, with `PreparedEnvelope.record`.
 */
export interface OutboxStore {
  /**
   * Up to `limit` records, in insertion order (the order events must reach a room in), after `after` when given
   * (from the first otherwise). Called only at start and when the in-memory buffer overflowed, never per event.
   */
  pending(limit: number, after?: OutboxCursor): readonly StoredOutboxRecord[] | Promise<readonly StoredOutboxRecord[]>;
  /**
   * Deletes the records with these ids (ids not present are ignored). Called once per chain write with every
   * envelope a transport acknowledged in it, never per event.
   */
  remove(ids: readonly string[]): void | Promise<void>;
}

/** `RealtimeTransportOptions.outbox`. */
export interface OutboxOptions {
  /** The application's outbox table. */
  store: OutboxStore;
  /** Records the relay reads from the store at a time (at start, and after an overflow). @default 500 */
  relayBatchSize?: number;
  /** Time the relay waits before reading again after the store failed. @default 1000 */
  retryMs?: number;
}
