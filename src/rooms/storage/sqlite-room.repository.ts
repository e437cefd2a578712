import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import type { Room } from '../room';
import { RoomRepository } from './room.repository';

/**
 * Rooms and members in the same SQLite file as the messages (tables of their own). The gateway role opens the
 * file too, for `JoinRoom`: it only reads, and in WAL mode its reads see every commit of the api at once and never
 * block the api's writes. Whichever process starts first creates the tables.
 */
@Injectable()
export class SqliteRoomRepository extends RoomRepository implements OnApplicationShutdown {
  private readonly db: Database.Database;
  private readonly insertRoom: Database.Statement;
  private readonly insertMember: Database.Statement;
  private readonly roomExists: Database.Statement;
  private readonly memberExists: Database.Statement;
  private readonly membersOf: Database.Statement;
  private readonly createRoom: (id: string, createdBy: string, members: string[]) => Room | undefined;

  constructor(path: string) {
    super();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // Locked by the other process (a schema change, a checkpoint): wait up to 5 s rather than fail the request.
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS rooms (
      id TEXT PRIMARY KEY,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS room_members (
      room_id TEXT NOT NULL REFERENCES rooms (id),
      user_id TEXT NOT NULL,
      added_by TEXT NOT NULL,
      added_at TEXT NOT NULL,
      PRIMARY KEY (room_id, user_id)
    ) WITHOUT ROWID;`);
    this.insertRoom = this.db.prepare('INSERT OR IGNORE INTO rooms (id, created_by, created_at) VALUES (?, ?, ?)');
    this.insertMember = this.db.prepare(
      'INSERT OR IGNORE INTO room_members (room_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?)',
    );
    this.roomExists = this.db.prepare('SELECT 1 FROM rooms WHERE id = ?');
    // The primary key (room_id, user_id) answers this with one index seek.
    this.memberExists = this.db.prepare('SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ?');
    this.membersOf = this.db.prepare('SELECT user_id FROM room_members WHERE room_id = ? ORDER BY user_id').pluck();
    this.createRoom = this.db.transaction((id: string, createdBy: string, members: string[]): Room | undefined => {
      const createdAt = new Date().toISOString();
      if (this.insertRoom.run(id, createdBy, createdAt).changes === 0) return undefined;
      for (const member of members) this.insertMember.run(id, member, createdBy, createdAt);
      return { id, createdBy, createdAt, members: this.membersOf.all(id) as string[] };
    });
  }

  async create(id: string, createdBy: string, members: string[]): Promise<Room | undefined> {
    return this.createRoom(id, createdBy, members);
  }

  async exists(roomId: string): Promise<boolean> {
    return this.roomExists.get(roomId) !== undefined;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return this.memberExists.get(roomId, userId) !== undefined;
  }

  async addMember(roomId: string, userId: string, addedBy: string): Promise<boolean> {
    return this.insertMember.run(roomId, userId, addedBy, new Date().toISOString()).changes > 0;
  }

  async members(roomId: string): Promise<string[]> {
    return this.membersOf.all(roomId) as string[];
  }

  onApplicationShutdown(): void {
    this.db.close();
  }
}
