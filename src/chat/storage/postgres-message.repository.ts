import type { PostgresDatabase } from '../../database/postgres-database';
import { ROOM_LOCK_NAMESPACE } from '../../database/postgres-locks';
import type { ChatMessage } from '../chat-message';
import { EventIdGenerator } from '@realtime-streams/transport';
import { type MessageDraft, MessageRepository } from './message.repository';
import { insertValuesOf, messageOfRow, type MessageRow, newMessageOf } from './stored-message';

const COLUMNS = 'id, room_id, user_id, text, created_at, accepted_at, room_seq';

/**
 * Messages in PostgreSQL, shared by every api instance on the same `DATABASE_URL`. As in SQLite, order within a
 * room is the row's sequence number (an identity column), so "after <id>" is exact whichever instance stored what.
 */
export class PostgresMessageRepository extends MessageRepository {
  private readonly ids = new EventIdGenerator();

  constructor(private readonly database: PostgresDatabase) {
    super();
  }

  async add(
    message: MessageDraft,
    inTransaction?: (stored: ChatMessage) => void | Promise<void>,
  ): Promise<ChatMessage> {
    return this.database.transaction(async () => {
      // Sequence numbers are taken at insert, not at commit: two writers in one room (two instances, or two
      // connections of one) could commit 7 after 8, and a client that read up to 8 would never see 7 with `after`.
      // Inserts into a room queue here instead (SQLite gets this from its single writer); other rooms go on in
      // parallel. Stamped once the lock is held, `createdAt` grows with the sequence too, and the room's number
      // (room_seq, what the envelope carries) is the next one of the room's commit order: under the lock, max + 1
      // cannot be taken twice (the unique index would refuse it anyway).
      await this.database.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        ROOM_LOCK_NAMESPACE,
        message.roomId,
      ]);
      const draft = newMessageOf(message, this.ids);
      const { rows } = await this.database.query<{ room_seq: string }>(
        `INSERT INTO messages (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6,
           (SELECT coalesce(max(room_seq), 0) + 1 FROM messages WHERE room_id = $2)) RETURNING room_seq`,
        insertValuesOf(draft),
      );
      const stored: ChatMessage = { ...draft, seq: Number(rows[0].room_seq) };
      await inTransaction?.(stored);
      return stored;
    });
  }

  async listAfter(roomId: string, afterId: string | undefined, limit: number): Promise<ChatMessage[]> {
    const { rows } = afterId
      ? await this.database.query<MessageRow>(
          `SELECT ${COLUMNS} FROM messages
           WHERE room_id = $1 AND seq > (SELECT seq FROM messages WHERE id = $2) ORDER BY seq LIMIT $3`,
          [roomId, afterId, limit],
        )
      : await this.database.query<MessageRow>(
          `SELECT ${COLUMNS} FROM messages WHERE room_id = $1 ORDER BY seq LIMIT $2`,
          [roomId, limit],
        );
    return rows.map(messageOfRow);
  }

  async has(roomId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.database.query('SELECT 1 FROM messages WHERE room_id = $1 AND id = $2', [
      roomId,
      id,
    ]);
    return (rowCount ?? 0) > 0;
  }
}
