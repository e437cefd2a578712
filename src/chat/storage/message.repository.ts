import type { ChatMessage } from '../chat-message';

/**
 * Where messages live: SQLite in a file by default, PostgreSQL with `DATABASE_URL`; tests or other deployments can
 * bind another. Answers with promises (PostgreSQL is asynchronous; the SQLite one resolves at once).
 */
/** What a caller gives to store a message: the rest is set when it is stored. */
export type MessageDraft = Omit<ChatMessage, 'id' | 'createdAt' | 'acceptedAt' | 'seq'>;

export abstract class MessageRepository {
  /**
   * Stores a message with the next number of its room (`seq`: taken in the transaction, so the room's numbers follow
   * its commit order, whichever instance or connection stored what). `inTransaction` runs inside the same transaction,
   * with the stored message (the outbox record of its envelope goes in there); when it throws or rejects, nothing is
   * stored. SQLite transactions cannot wait, so there it must finish synchronously (the SQLite outbox does). The
   * promise resolves only once the message committed (SQLite commits the messages of one event-loop turn together).
   */
  abstract add(
    message: MessageDraft,
    inTransaction?: (stored: ChatMessage) => void | Promise<void>,
  ): Promise<ChatMessage>;
  /** Messages of the room after `afterId` (or from the start), oldest first, at most `limit`. */
  abstract listAfter(roomId: string, afterId: string | undefined, limit: number): Promise<ChatMessage[]>;
  /** Whether the room has a message with this id. */
  abstract has(roomId: string, id: string): Promise<boolean>;
}
