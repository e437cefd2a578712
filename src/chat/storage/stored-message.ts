import { randomUUID } from 'node:crypto';
import { epochMs } from '@realtime-streams/contracts';
import type { ChatMessage } from '../chat-message';

/** A row of the `messages` table, as both stores return it. */
export interface MessageRow {
  id: string;
  room_id: string;
  user_id: string;
  text: string;
  created_at: string;
  accepted_at: number | null;
}

/** The message as it will be stored: a random id, and the accept instant in both forms the API returns. */
export function storedMessageOf(draft: Omit<ChatMessage, 'id' | 'createdAt' | 'acceptedAt'>): ChatMessage {
  const acceptedAt = epochMs();
  return { ...draft, id: randomUUID(), createdAt: new Date(acceptedAt).toISOString(), acceptedAt };
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
  };
}
