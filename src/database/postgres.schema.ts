import { LOCK_NAMESPACE, SCHEMA_LOCK } from './postgres-locks';
import type { PostgresDatabase } from './postgres-database';

/**
 * The same tables as the SQLite store, with PostgreSQL types. Times stay ISO strings and epoch milliseconds
 * (`double precision` keeps `acceptedAt`'s sub-millisecond part): the API returns exactly what was stored. Room
 * and user ids sort with the "C" collation, byte order like SQLite's, so `members` comes back in the same order
 * whatever the database's locale.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  room_id text NOT NULL,
  user_id text NOT NULL,
  text text NOT NULL,
  created_at text NOT NULL,
  accepted_at double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_room_seq ON messages (room_id, seq);
-- The room's number of each message (ChatMessage.seq); databases created before it get it once, numbered in
-- stored order.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'messages' AND column_name = 'room_seq') THEN
    ALTER TABLE messages ADD COLUMN room_seq bigint;
    UPDATE messages SET room_seq = numbered.n
      FROM (SELECT seq, row_number() OVER (PARTITION BY room_id ORDER BY seq) AS n FROM messages) AS numbered
      WHERE messages.seq = numbered.seq;
    ALTER TABLE messages ALTER COLUMN room_seq SET NOT NULL;
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS messages_room_number ON messages (room_id, room_seq);
CREATE TABLE IF NOT EXISTS rooms (
  id text COLLATE "C" PRIMARY KEY,
  created_by text NOT NULL,
  created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS room_members (
  room_id text COLLATE "C" NOT NULL REFERENCES rooms (id),
  user_id text COLLATE "C" NOT NULL,
  added_by text NOT NULL,
  added_at text NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE TABLE IF NOT EXISTS realtime_outbox (
  cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  type text NOT NULL,
  target_key text NOT NULL,
  json text NOT NULL
);`;

/**
 * Creates what is missing. Two instances starting at once would race (`IF NOT EXISTS` checks and creates in two
 * steps, and the loser fails on a unique index of the catalog), so the DDL runs under an advisory lock: the second
 * waits, then finds everything there.
 */
export async function createSchema(database: PostgresDatabase): Promise<void> {
  await database.transaction(async () => {
    await database.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, SCHEMA_LOCK]);
    await database.query(SCHEMA);
  });
}
