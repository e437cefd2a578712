import type { OutboxCursor, OutboxRecord, OutboxStore, StoredOutboxRecord } from '@realtime-streams/transport';

/**
 * The realtime outbox table in the messages' database: the chat inserts a message's record inside
 * `MessageRepository.add`'s transaction, the publisher's relay reads what is left (`pending`) and trims what a
 * transport acknowledged (`remove`). SQLite answers synchronously, PostgreSQL with promises; the relay takes both.
 */
export abstract class ChatOutboxStore implements OutboxStore {
  /** Inserts a record. Call it from `add`'s `inTransaction` callback, so it commits (or not) with the message. */
  abstract insert(record: OutboxRecord): void | Promise<void>;

  abstract pending(
    limit: number,
    after?: OutboxCursor,
  ): readonly StoredOutboxRecord[] | Promise<readonly StoredOutboxRecord[]>;

  abstract remove(ids: readonly string[]): void | Promise<void>;

  /** How many records wait (for tests and the operator). */
  abstract count(): number | Promise<number>;
}

/** A row of the `realtime_outbox` table, as both stores select it (the cursor as the driver returns it). */
export interface OutboxRow {
  cursor: OutboxCursor;
  id: string;
  type: string;
  target_key: string;
  json: string;
}

export function outboxRecordOf(row: OutboxRow): StoredOutboxRecord {
  return { cursor: row.cursor, id: row.id, type: row.type, targetKey: row.target_key, json: row.json };
}
