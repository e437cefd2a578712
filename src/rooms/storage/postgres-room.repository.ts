import type { PostgresDatabase } from '../../database/postgres-database';
import type { Room } from '../room';
import { RoomRepository } from './room.repository';

/**
 * Rooms and members in PostgreSQL, next to the messages: every api instance and every gateway on the same
 * `DATABASE_URL` sees a room the moment its creation committed (gateways read it for `JoinRoom`).
 */
export class PostgresRoomRepository extends RoomRepository {
  constructor(private readonly database: PostgresDatabase) {
    super();
  }

  async create(id: string, createdBy: string, members: string[]): Promise<Room | undefined> {
    return this.database.transaction(async () => {
      const createdAt = new Date().toISOString();
      // Two instances creating the same id at once: the second waits for the first's commit, then inserts nothing.
      const created = await this.database.query(
        'INSERT INTO rooms (id, created_by, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
        [id, createdBy, createdAt],
      );
      if (created.rowCount === 0) return undefined;
      await this.database.query(
        `INSERT INTO room_members (room_id, user_id, added_by, added_at)
         SELECT $1, member, $2, $3 FROM unnest($4::text[]) AS member ON CONFLICT DO NOTHING`,
        [id, createdBy, createdAt, members],
      );
      return { id, createdBy, createdAt, members: await this.members(id) };
    });
  }

  async exists(roomId: string): Promise<boolean> {
    return this.found('SELECT 1 FROM rooms WHERE id = $1', [roomId]);
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    // The primary key (room_id, user_id) answers this with one index seek.
    return this.found('SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
  }

  async addMember(roomId: string, userId: string, addedBy: string): Promise<boolean> {
    const { rowCount } = await this.database.query(
      'INSERT INTO room_members (room_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [roomId, userId, addedBy, new Date().toISOString()],
    );
    return (rowCount ?? 0) > 0;
  }

  async members(roomId: string): Promise<string[]> {
    // The columns' "C" collation: byte order, the order SQLite returns.
    const { rows } = await this.database.query<{ user_id: string }>(
      'SELECT user_id FROM room_members WHERE room_id = $1 ORDER BY user_id',
      [roomId],
    );
    return rows.map((row) => row.user_id);
  }

  private async found(text: string, values: unknown[]): Promise<boolean> {
    const { rowCount } = await this.database.query(text, values);
    return (rowCount ?? 0) > 0;
  }
}
