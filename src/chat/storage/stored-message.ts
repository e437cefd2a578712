import { randomUUID } from 'node:crypto';
import { epochMs } from '@realtime-streams/contracts';
import type { ChatMessage } from '../chat-message';
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
 * The message as it will be stored: a random id, the accept instant in both forms the API returns, and its number
 * in the room, which the store takes in the insert's transaction.
 */
export function storedMessageOf(draft: MessageDraft, seq: number): ChatMessage {
  const acceptedAt = epochMs();
  return { ...draft, id: randomUUID(), createdAt: new Date(acceptedAt).toISOString(), acceptedAt, seq };
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
