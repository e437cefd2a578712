import type { Room } from '../room';

/**
 * Rooms and who is in them: SQLite in the messages' database file by default, PostgreSQL with `DATABASE_URL`;
 * tests or other deployments can bind another. Answers with promises (the SQLite one resolves at once).
 */
export abstract class RoomRepository {
  /** Creates the room with its members (the creator among them); undefined when a room with this id exists. */
  abstract create(id: string, createdBy: string, members: string[]): Promise<Room | undefined>;
  abstract exists(roomId: string): Promise<boolean>;
  /** One indexed lookup: it runs on every REST call and every JoinRoom of a members-only service. */
  abstract isMember(roomId: string, userId: string): Promise<boolean>;
  /** Adds a member; false when the user already was one. */
  abstract addMember(roomId: string, userId: string, addedBy: string): Promise<boolean>;
  /** The room's members, sorted. */
  abstract members(roomId: string): Promise<string[]>;
}
