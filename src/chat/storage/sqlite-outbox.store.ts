import type Database from 'better-sqlite3';
import type { OutboxCursor, OutboxRecord, StoredOutboxRecord } from '@realtime-streams/transport';
import { ChatOutboxStore, outboxRecordOf, type OutboxRow } from './chat-outbox.store';

/** The cursor is an INTEGER. */
type Row = OutboxRow & { cursor: number };

/**
 * The outbox table, in the messages' database: a message and its envelope are written in one transaction
 * (`SqliteMessageRepository.add`), so an accepted message is never without its envelope, whatever dies after.
 * The publisher removes records once a transport acknowledged them and republishes what is left on start.
 */
export class SqliteOutboxStore extends ChatOutboxStore {
  private readonly insertStatement: Database.Statement;
  private readonly fromStart: Database.Statement;
  private readonly afterCursor: Database.Statement;
  private readonly deleteIds: Database.Statement;

  constructor(private readonly db: Database.Database) {
    super();
    db.exec(`CREATE TABLE IF NOT EXISTS realtime_outbox (
      cursor INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      target_key TEXT NOT NULL,
      json TEXT NOT NULL
    )`);
    this.insertStatement = db.prepare('INSERT INTO realtime_outbox (id, type, target_key, json) VALUES (?, ?, ?, ?)');
    this.fromStart = db.prepare('SELECT * FROM realtime_outbox ORDER BY cursor LIMIT ?');
    this.afterCursor = db.prepare('SELECT * FROM realtime_outbox WHERE cursor > ? ORDER BY cursor LIMIT ?');
    // One statement for a whole acknowledged batch, whatever its size: the ids travel as one JSON array.
    this.deleteIds = db.prepare('DELETE FROM realtime_outbox WHERE id IN (SELECT value FROM json_each(?))');
  }

  /** Inserts a record; call it inside the transaction that stores the domain change. */
  insert(record: OutboxRecord): void {
    this.insertStatement.run(record.id, record.type, record.targetKey, record.json);
  }

  pending(limit: number, after?: OutboxCursor): StoredOutboxRecord[] {
    // Closed at shutdown: what is left is read on the next start.
    if (!this.db.open) return [];
    const rows = (after === undefined ? this.fromStart.all(limit) : this.afterCursor.all(after, limit)) as Row[];
    return rows.map(outboxRecordOf);
  }

  remove(ids: readonly string[]): void {
    // Acknowledged after the database closed (the last flush): those records are republished on the next start,
    // and the gateways drop the copies by id.
    if (!this.db.open) return;
    this.deleteIds.run(JSON.stringify(ids));
  }

  /** How many records wait (for tests and the operator). */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM realtime_outbox').get() as { n: number }).n;
  }
}
