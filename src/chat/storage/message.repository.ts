import type { ChatMessage } from '../chat-message';

/** Where messages live. The default is SQLite in a file; tests or other deployments can bind another. */
export abstract class MessageRepository {
  /**
   * Stores a message; ids sort in creation order within a room. `inTransaction` runs inside the same transaction,
   * with the stored message (the outbox record of its envelope goes in there); when it throws, nothing is stored.
   */
  abstract add(
    message: Omit<ChatMessage, 'id' | 'createdAt' | 'acceptedAt'>,
    inTransaction?: (stored: ChatMessage) => void,
  ): ChatMessage;
  /** Messages of the room after `afterId` (or from the start), oldest first, at most `limit`. */
  abstract listAfter(roomId: string, afterId: string | undefined, limit: number): ChatMessage[];
  /** Whether the room has a message with this id. */
  abstract has(roomId: string, id: string): boolean;
}
