import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import type { ChatMessage } from '../chat-message';
import { GroupCommit, type WriteOutcome } from './group-commit';
import { EventIdGenerator } from '@realtime-streams/transport';
import { type MessageDraft, MessageRepository } from './message.repository';
import { MessagesNotStoredError } from './messages-not-stored.error';
import { insertValuesOf, messageOfRow, type MessageRow, newMessageOf } from './stored-message';

/** Numbers each room's rows 1, 2, 3... in their stored order (rows from before room_seq existed). */
const NUMBER_OLDER_ROWS = `UPDATE messages SET room_seq = numbered.n
  FROM (SELECT seq, row_number() OVER (PARTITION BY room_id ORDER BY seq) AS n FROM messages) AS numbered
  WHERE messages.seq = numbered.seq`;

/** A message waiting for its group commit. */
interface PendingMessage {
  message: MessageDraft;
  inTransaction?: (stored: ChatMessage) => void | Promise<void>;
}

/**
 * Messages in an SQLite file, created on first start. Order within a room is the row's sequence number, so
 * "after <id>" is exact even for messages created in the same millisecond.
 *
 * Writes are group-committed (`GroupCommit`): the messages posted during one event-loop turn are stored in one
 * transaction, each in a savepoint of its own (with its `inTransaction` work: the outbox record), and every `add`
 * resolves once that transaction committed. A commit per message cost most of the API's time at a thousand
 * messages a second (its WAL frames, and the checkpoints they trigger); a batch writes each touched page once.
 */
@Injectable()
export class SqliteMessageRepository extends MessageRepository implements OnApplicationShutdown {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly fromStart: Database.Statement;
  private readonly afterId: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly logger = new Logger('MessageRepository');
  private readonly ids = new EventIdGenerator();
  private readonly writes: GroupCommit<PendingMessage, ChatMessage>;

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
    this.writes = this.groupCommit();
    this.logger.log(`Messages stored in ${path}`);
  }

  private groupCommit(): GroupCommit<PendingMessage, ChatMessage> {
    // Called inside the batch's transaction, better-sqlite3 runs this in a savepoint: a message whose own work fails
    // (its outbox record, say) is rolled back alone and its request fails alone.
    const addOne = this.db.transaction((pending: PendingMessage): ChatMessage => {
      // One writer (SQLite's): the room's next number, taken by the insert, cannot be taken twice.
      const draft = newMessageOf(pending.message, this.ids);
      const row = this.insert.get(...insertValuesOf(draft), draft.roomId) as { room_seq: number };
      const stored: ChatMessage = { ...draft, seq: row.room_seq };
      const work = pending.inTransaction?.(stored);
      // The transaction commits when this function returns: work still pending then would land outside it.
      if (work instanceof Promise) {
        work.catch(() => undefined);
        throw new TypeError('SqliteMessageRepository.add: inTransaction must finish synchronously (SQLite)');
      }
      return stored;
    });
    const addAll = this.db.transaction((batch: readonly PendingMessage[]): Array<WriteOutcome<ChatMessage>> =>
      batch.map((pending) => {
        try {
          return { ok: true, value: addOne(pending) };
        } catch (error) {
          // Some errors (disk full, I/O) roll back the whole transaction: the batch fails, nothing of it is stored
          // (and nothing after it may run outside a transaction).
          if (!this.db.inTransaction) throw error;
          return { ok: false, error };
        }
      }),
    );
    return new GroupCommit(
      // IMMEDIATE: the write lock is taken (or refused after the busy timeout) once, before the first message.
      (batch) => addAll.immediate(batch),
      (error, size) => {
        const failure = new MessagesNotStoredError(size, { cause: error });
        this.logger.error(failure.message);
        return failure;
      },
    );
  }

  /** The connection, for stores that must share its transactions (the outbox). */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * Resolves once the message (and what `inTransaction` wrote) committed, with the messages posted in the same
   * event-loop turn; rejects with `MessagesNotStoredError` when that transaction failed, or with the error of this
   * message's own `inTransaction` (then only this message is rolled back).
   */
  add(message: MessageDraft, inTransaction?: (stored: ChatMessage) => void | Promise<void>): Promise<ChatMessage> {
    return this.writes.submit({ message, inTransaction });
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
    // Messages posted in the last turn are committed before the file closes (their requests are answered 201).
    this.writes.flush();
    this.db.close();
  }
}
