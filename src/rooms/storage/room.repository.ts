import type { Room } from '../room';

/** Rooms and who is in them. The default is SQLite in the messages' database file; tests or other deployments can bind another. */
export abstract class RoomRepository {
  /** Creates the room with its members (the creator among them); undefined when a room with this id exists. */
  abstract create(id: string, createdBy: string, members: string[]): Room | undefined;
  abstract exists(roomId: string): boolean;
  /** One indexed lookup: it runs on every REST call and every JoinRoom of a members-only service. */
  abstract isMember(roomId: string, userId: string): boolean;
  /** Adds a member; false when the user already was one. */
  abstract addMember(roomId: string, userId: string, addedBy: string): boolean;
  /** The room's members, sorted. */
  abstract members(roomId: string): string[];
}
