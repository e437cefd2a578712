import type { ChatMessage } from '../chat-message';

/** Where messages live. The default is SQLite in a file; tests or other deployments can bind another. */
export abstract class MessageRepository {
  /** Stores a message; ids sort in creation order within a room. */
  abstract add(message: Omit<ChatMessage, 'id' | 'createdAt' | 'acceptedAt'>): ChatMessage;
  /** Messages of the room after `afterId` (or from the start), oldest first, at most `limit`. */
  abstract listAfter(roomId: string, afterId: string | undefined, limit: number): ChatMessage[];
  /** Whether the room has a message with this id. */
  abstract has(roomId: string, id: string): boolean;
}
