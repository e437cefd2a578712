import type { OutboxCursor, OutboxRecord, StoredOutboxRecord } from '@realtime-streams/transport';
import type { PostgresDatabase } from '../../database/postgres-database';
import { LOCK_NAMESPACE, OUTBOX_LOCK } from '../../database/postgres-locks';
import { ChatOutboxStore, outboxRecordOf, type OutboxRow } from './chat-outbox.store';

/** The cursor is a bigint as text (node-postgres). */
type Row = OutboxRow & { cursor: string };

const COLUMNS = 'cursor, id, type, target_key, json';

/**
 * The outbox table in PostgreSQL. `insert` runs in `PostgresMessageRepository.add`'s transaction (it joins it
 * through `PostgresDatabase`), so a message and its record commit together, as in SQLite. The cursor is a
 * `bigint` identity column, returned as a string (the relay only compares and passes it back).
 *
 * Several api instances share the table. Each relay reads `pending()` from the start when its process starts, so
 * it may republish records another running instance still holds in memory, or that another instance left and a
 * third republishes too: the copies carry the same envelope id and the same bytes, and the gateways drop them by id
 * (the dedup window, `REALTIME_DEDUP_TTL_MS`), so a client sees each message once and in order. Both instances
 * then `remove` the same ids; deleting ids already gone is a no-op. (An `instance` column filtered in `pending`
 * would save the extra sends at the price of orphaning a dead instance's records; the copies are cheaper.)
 */
export class PostgresOutboxStore extends ChatOutboxStore {
  constructor(private readonly database: PostgresDatabase) {
    super();
  }

  async insert(record: OutboxRecord): Promise<void> {
    // The relay reads "after the last cursor it saw": a record whose cursor commits after a higher one would be
    // skipped by a read in between (an overflow read-back would then leave it for the next start). Held until the
    // commit, this lock makes cursors commit in order across connections and instances, as SQLite's single writer
    // does; it costs one short wait per message, after the message's own insert.
    await this.database.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, OUTBOX_LOCK]);
    await this.database.query('INSERT INTO realtime_outbox (id, type, target_key, json) VALUES ($1, $2, $3, $4)', [
      record.id,
      record.type,
      record.targetKey,
      record.json,
    ]);
  }

  async pending(limit: number, after?: OutboxCursor): Promise<StoredOutboxRecord[]> {
    // Closed at shutdown: what is left is read on the next start.
    if (this.database.closed) return [];
    const { rows } =
      after === undefined
        ? await this.database.query<Row>(`SELECT ${COLUMNS} FROM realtime_outbox ORDER BY cursor LIMIT $1`, [limit])
        : await this.database.query<Row>(
            `SELECT ${COLUMNS} FROM realtime_outbox WHERE cursor > $1 ORDER BY cursor LIMIT $2`,
            [String(after), limit],
          );
    return rows.map(outboxRecordOf);
  }

  async remove(ids: readonly string[]): Promise<void> {
    // Acknowledged after the pool closed (the last flush): those records are republished on the next start, and the
    // gateways drop the copies by id.
    if (this.database.closed || ids.length === 0) return;
    // One statement for a whole acknowledged batch, whatever its size: the ids travel as one array parameter.
    await this.database.query('DELETE FROM realtime_outbox WHERE id = ANY($1::text[])', [ids]);
  }

  async count(): Promise<number> {
    const { rows } = await this.database.query<{ n: string }>('SELECT count(*) AS n FROM realtime_outbox');
    return Number(rows[0].n);
  }
}
