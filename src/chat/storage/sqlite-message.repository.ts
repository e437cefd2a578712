import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import type { ChatMessage } from '../chat-message';
import { type MessageDraft, MessageRepository } from './message.repository';
import { insertValuesOf, messageOfRow, type MessageRow, newMessageOf } from './stored-message';

/** Numbers each room's rows 1, 2, 3... in their stored order (rows from before room_seq existed). */
const NUMBER_OLDER_ROWS = `UPDATE messages SET room_seq = numbered.n
  FROM (SELECT seq, row_number() OVER (PARTITION BY room_id ORDER BY seq) AS n FROM messages) AS numbered
  WHERE messages.seq = numbered.seq`;

/**
 * Messages in an SQLite file, created on first start. Order within a room is the row's sequence number, so
 * "after <id>" is exact even for messages created in the same millisecond.
 */
@Injectable()
export class SqliteMessageRepository extends MessageRepository implements OnApplicationShutdown {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly fromStart: Database.Statement;
  private readonly afterId: Database.Statement;
  private readonly exists: Database.Statement;

  constructor(path: string) {
    super();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL survives a process crash (a power loss may lose the last commits) and skips an fsync per
    // message, which would otherwise cap the API at a few hundred messages per second.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      room_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      text TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_room_seq ON messages (room_id, seq);`);
    // Files created before accepted_at existed get the column (older rows keep NULL and fall back to created_at).
    const columns = this.db.prepare('PRAGMA table_info(messages)').all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === 'accepted_at')) {
      this.db.exec('ALTER TABLE messages ADD COLUMN accepted_at REAL');
    }
    // Files created before room_seq existed get it, their rooms numbered in their stored order.
    if (!columns.some((column) => column.name === 'room_seq')) {
      this.db.exec('ALTER TABLE messages ADD COLUMN room_seq INTEGER');
      this.db.exec(NUMBER_OLDER_ROWS);
    }
    this.db.exec('CREATE UNIQUE INDEX IF NOT EXISTS messages_room_number ON messages (room_id, room_seq)');
    this.insert = this.db.prepare(
      `INSERT INTO messages (id, room_id, user_id, text, created_at, accepted_at, room_seq)
       VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(room_seq), 0) + 1 FROM messages WHERE room_id = ?))
       RETURNING room_seq`,
    );
    this.fromStart = this.db.prepare('SELECT * FROM messages WHERE room_id = ? ORDER BY seq LIMIT ?');
    this.afterId = this.db.prepare(
      'SELECT * FROM messages WHERE room_id = ? AND seq > (SELECT seq FROM messages WHERE id = ?) ORDER BY seq LIMIT ?',
    );
    this.exists = this.db.prepare('SELECT 1 FROM messages WHERE room_id = ? AND id = ?');
    new Logger('MessageRepository').log(`Messages stored in ${path}`);
  }

  /** The connection, for stores that must share its transactions (the outbox). */
  get database(): Database.Database {
    return this.db;
  }

  async add(
    message: MessageDraft,
    inTransaction?: (stored: ChatMessage) => void | Promise<void>,
  ): Promise<ChatMessage> {
    let stored!: ChatMessage;
    // One writer (SQLite's): the room's next number, taken by the insert, cannot be taken twice.
    this.db.transaction(() => {
      const draft = newMessageOf(message);
      const row = this.insert.get(...insertValuesOf(draft), draft.roomId) as { room_seq: number };
      stored = { ...draft, seq: row.room_seq };
      if (!inTransaction) return;
      const pending = inTransaction(stored);
      // The transaction commits when this function returns: work still pending then would land outside it.
      if (pending instanceof Promise) {
        pending.catch(() => undefined);
        throw new TypeError('SqliteMessageRepository.add: inTransaction must finish synchronously (SQLite)');
      }
    })();
    return stored;
  }

  async listAfter(roomId: string, afterId: string | undefined, limit: number): Promise<ChatMessage[]> {
    const rows = (
      afterId ? this.afterId.all(roomId, afterId, limit) : this.fromStart.all(roomId, limit)
    ) as MessageRow[];
    return rows.map(messageOfRow);
  }

  async has(roomId: string, id: string): Promise<boolean> {
    return this.exists.get(roomId, id) !== undefined;
  }

  onApplicationShutdown(): void {
    this.db.close();
  }
}
