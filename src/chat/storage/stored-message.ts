import { epochMs } from '@realtime-streams/contracts';
import type { ChatMessage } from '../chat-message';
import type { EventIdGenerator } from '@realtime-streams/transport';
import type { MessageDraft } from './message.repository';

/** A row of the `messages` table, as both stores return it. */
export interface MessageRow {
  id: string;
  room_id: string;
  user_id: string;
  text: string;
  created_at: string;
  accepted_at: number | null;
  room_seq: number | string;
}

/**
 * The message as it will be stored, but for its number in the room: each store's insert takes the room's next one in
 * the same statement (one round trip), inside a transaction where it cannot be taken twice (SQLite's single writer,
 * PostgreSQL's room lock; the unique index on (room_id, room_seq) would refuse it anyway), and returns it.
 */
export type NewMessage = Omit<ChatMessage, 'seq'>;

/** A new id (UUIDv7, time-ordered: inserts land at the id index's right edge), and the accept instant in both forms the API returns. */
export function newMessageOf(draft: MessageDraft, ids: EventIdGenerator): NewMessage {
  const acceptedAt = epochMs();
  return { ...draft, id: ids.next(acceptedAt), createdAt: new Date(acceptedAt).toISOString(), acceptedAt };
}

/** The insert's parameters, in the order of both stores' column lists: id, room, user, text, created, accepted. */
export function insertValuesOf(message: NewMessage): [string, string, string, string, string, number] {
  return [message.id, message.roomId, message.userId, message.text, message.createdAt, message.acceptedAt];
}

export function messageOfRow(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    roomId: row.room_id,
    userId: row.user_id,
    text: row.text,
    createdAt: row.created_at,
    // SQLite files created before accepted_at existed hold NULL there: the older rows fall back to created_at.
    acceptedAt: row.accepted_at ?? Date.parse(row.created_at),
    // A bigint in PostgreSQL, which node-postgres returns as text.
    seq: Number(row.room_seq),
  };
}
