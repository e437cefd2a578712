import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { OutboxRecord } from '@realtime-streams/transport';
import type { ChatOutboxStore } from '../../src/chat/storage/chat-outbox.store';
import type { MessageRepository } from '../../src/chat/storage/message.repository';
import { PostgresMessageRepository } from '../../src/chat/storage/postgres-message.repository';
import { PostgresOutboxStore } from '../../src/chat/storage/postgres-outbox.store';
import { SqliteMessageRepository } from '../../src/chat/storage/sqlite-message.repository';
import { SqliteOutboxStore } from '../../src/chat/storage/sqlite-outbox.store';
import { DatabaseUnavailableError } from '../../src/database/database-unavailable.error';
import { PostgresDatabase } from '../../src/database/postgres-database';
import { PostgresRoomRepository } from '../../src/rooms/storage/postgres-room.repository';
import type { RoomRepository } from '../../src/rooms/storage/room.repository';
import { SqliteRoomRepository } from '../../src/rooms/storage/sqlite-room.repository';
import { freePort } from '../support/free-port';
import { PostgresTestDatabase } from '../support/postgres-database';

interface Stores {
  messages: MessageRepository;
  outbox: ChatOutboxStore;
  rooms: RoomRepository;
  close(): Promise<void>;
}

async function sqliteStores(): Promise<Stores> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
  const path = join(dir, 'chat.sqlite');
  const messages = new SqliteMessageRepository(path);
  const rooms = new SqliteRoomRepository(path);
  return {
    messages,
    outbox: new SqliteOutboxStore(messages.database),
    rooms,
    close: async () => {
      messages.onApplicationShutdown();
      rooms.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresStores(): Promise<Stores> {
  const server = await PostgresTestDatabase.create();
  const database = await PostgresDatabase.open(server.url());
  return {
    messages: new PostgresMessageRepository(database),
    outbox: new PostgresOutboxStore(database),
    rooms: new PostgresRoomRepository(database),
    close: async () => {
      await database.onApplicationShutdown();
      await server.dispose();
    },
  };
}

const recordOf = (id: string): OutboxRecord => ({
  id,
  type: 'MessageCreated',
  targetKey: 'group:room:r',
  json: `{"id":"${id}"}`,
});

// The PostgreSQL store must behave as the SQLite one does: the same suite runs over both.
describe.each([
  ['SQLite', sqliteStores],
  ['PostgreSQL', postgresStores],
])('chat stores on %s', (_name, open) => {
  let stores: Stores;

  beforeAll(async () => {
    stores = await open();
  });

  afterAll(async () => {
    await stores?.close();
  });

  it('stores a message and its outbox record in one transaction; a failing callback stores neither', async () => {
    const { messages, outbox } = stores;
    const stored = await messages.add({ roomId: 'tx', userId: 'alice', text: 'kept' }, (message) =>
      outbox.insert(recordOf(`envelope-${message.id}`)),
    );
    expect(stored).toMatchObject({ roomId: 'tx', userId: 'alice', text: 'kept' });
    expect(Date.parse(stored.createdAt)).toBe(Math.floor(stored.acceptedAt));

    // Failing after the outbox insert (synchronously on SQLite, once the insert resolved on PostgreSQL): the message
    // and the record both roll back.
    const fail = (): never => {
      throw new Error('callback failed');
    };
    await expect(
      messages.add({ roomId: 'tx', userId: 'alice', text: 'rolled back' }, (message) => {
        const inserted = outbox.insert(recordOf(`envelope-${message.id}`));
        return inserted ? inserted.then(fail) : fail();
      }),
    ).rejects.toThrow('callback failed');
    // A record the table refuses (its id is taken) takes the message with it. Matched by message, not with
    // toThrow: better-sqlite3's native addon keeps the SqliteError class of the first test file that loaded it in
    // this worker, whose Error.prototype is not this file's, so toThrow would not see an error at all.
    await expect(
      messages.add({ roomId: 'tx', userId: 'alice', text: 'duplicate record' }, () =>
        outbox.insert(recordOf(`envelope-${stored.id}`)),
      ),
    ).rejects.toHaveProperty('message', expect.stringMatching(/unique|duplicate/i));

    expect((await messages.listAfter('tx', undefined, 10)).map((m) => m.text)).toEqual(['kept']);
    expect(await outbox.count()).toBe(1);
    const pending = await outbox.pending(10);
    expect(pending).toEqual([{ ...recordOf(`envelope-${stored.id}`), cursor: expect.anything() }]);
    await outbox.remove([`envelope-${stored.id}`, 'not-there']);
    expect(await outbox.count()).toBe(0);
  });

  it('lists a room in creation order, after an id and up to a limit, rooms apart', async () => {
    const { messages } = stores;
    // Concurrent adds (PostgreSQL runs them on several connections): the order is still one, and createdAt follows it.
    const added = await Promise.all(
      Array.from({ length: 20 }, (_, i) => messages.add({ roomId: 'order', userId: `u${i % 3}`, text: `#${i}` })),
    );
    await messages.add({ roomId: 'elsewhere', userId: 'u0', text: 'other room' });
    const listed = await messages.listAfter('order', undefined, 100);
    expect(listed.map((m) => m.id).sort()).toEqual(added.map((m) => m.id).sort());
    const byAcceptedAt = [...listed].sort((a, b) => a.acceptedAt - b.acceptedAt);
    expect(listed.map((m) => m.id)).toEqual(byAcceptedAt.map((m) => m.id));
    expect(listed[0]).toEqual(added.find((m) => m.id === listed[0].id));
    // Numbered 1, 2, 3... in the room's commit order, whichever connection stored what; each room on its own.
    expect(listed.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await messages.listAfter('elsewhere', undefined, 10)).map((m) => m.seq)).toEqual([1]);

    expect(await messages.listAfter('order', listed[4].id, 3)).toEqual(listed.slice(5, 8));
    expect(await messages.listAfter('order', listed[19].id, 10)).toEqual([]);
    expect(await messages.has('order', listed[0].id)).toBe(true);
    expect(await messages.has('elsewhere', listed[0].id)).toBe(false);
    expect(await messages.has('order', 'not-a-message')).toBe(false);
  });

  it('creates rooms with sorted members, refuses a taken id, adds members once', async () => {
    const { rooms } = stores;
    // Byte order, whatever the database's locale: upper case, then "_", then lower case.
    const room = await rooms.create('club', 'alice', ['alice', 'bob', 'Zed', '_x', 'Bob']);
    expect(room).toEqual({
      id: 'club',
      createdBy: 'alice',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      members: ['Bob', 'Zed', '_x', 'alice', 'bob'],
    });
    expect(await rooms.create('club', 'mallory', ['mallory'])).toBeUndefined();
    expect(await rooms.members('club')).toEqual(['Bob', 'Zed', '_x', 'alice', 'bob']);

    expect([await rooms.exists('club'), await rooms.exists('nowhere')]).toEqual([true, false]);
    expect([await rooms.isMember('club', 'bob'), await rooms.isMember('club', 'carol')]).toEqual([true, false]);
    expect(await rooms.addMember('club', 'carol', 'bob')).toBe(true);
    expect(await rooms.addMember('club', 'carol', 'alice')).toBe(false);
    expect(await rooms.isMember('club', 'carol')).toBe(true);
    expect(await rooms.members('nowhere')).toEqual([]);
  });

  it('pages the outbox in insertion order after a cursor', async () => {
    const { messages, outbox } = stores;
    for (let i = 0; i < 5; i++) {
      await messages.add({ roomId: 'paged', userId: 'alice', text: `#${i}` }, () =>
        outbox.insert(recordOf(`paged-${i}`)),
      );
    }
    const first = await outbox.pending(2);
    const rest = await outbox.pending(10, first[1].cursor);
    expect([...first, ...rest].map((r) => r.id)).toEqual(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
    await outbox.remove(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
    expect(await outbox.pending(10)).toEqual([]);
  });
});

describe('PostgreSQL store: start-up, sharing and outages', () => {
  let server: PostgresTestDatabase;
  const opened: PostgresDatabase[] = [];
  const open = async () => {
    const database = await PostgresDatabase.open(server.url());
    opened.push(database);
    return database;
  };

  beforeAll(async () => {
    server = await PostgresTestDatabase.create();
  });

  afterAll(async () => {
    await Promise.all(opened.map((database) => database.onApplicationShutdown().catch(() => undefined)));
    await server?.dispose();
  });

  it('creates the schema once when instances start together', async () => {
    await Promise.all([open(), open(), open()]);
    const tables = await server.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(['messages', 'realtime_outbox', 'room_members', 'rooms']);
  });

  it('shares messages, rooms and the outbox between two pools; one of two creates of a room wins', async () => {
    const [a, b] = [await open(), await open()];
    const [roomsA, roomsB] = [new PostgresRoomRepository(a), new PostgresRoomRepository(b)];
    const created = await Promise.all([
      roomsA.create('race', 'alice', ['alice']),
      roomsB.create('race', 'bob', ['bob']),
    ]);
    expect(created.filter((room) => room !== undefined)).toHaveLength(1);
    expect(await roomsA.members('race')).toEqual(await roomsB.members('race'));

    const [messagesA, messagesB] = [new PostgresMessageRepository(a), new PostgresMessageRepository(b)];
    const [outboxA, outboxB] = [new PostgresOutboxStore(a), new PostgresOutboxStore(b)];
    const posted = [];
    for (let i = 0; i < 6; i++) {
      const [messages, outbox] = i % 2 === 0 ? [messagesA, outboxA] : [messagesB, outboxB];
      posted.push(
        await messages.add({ roomId: 'race', userId: 'alice', text: `#${i}` }, (m) => outbox.insert(recordOf(m.id))),
      );
    }
    expect(await messagesA.listAfter('race', undefined, 10)).toEqual(posted);
    expect(await messagesB.listAfter('race', posted[1].id, 10)).toEqual(posted.slice(2));
    // Both relays see every record, in one order; removing ids the other already removed is harmless.
    expect((await outboxB.pending(10)).map((r) => r.id)).toEqual(posted.map((m) => m.id));
    await outboxA.remove(posted.map((m) => m.id));
    await outboxB.remove(posted.map((m) => m.id));
    expect(await outboxA.count()).toBe(0);
  });

  it('lets a reader that follows the cursor see every record while several connections insert', async () => {
    const [a, b] = [await open(), await open()];
    const writers = [a, b].map((database) => ({
      messages: new PostgresMessageRepository(database),
      outbox: new PostgresOutboxStore(database),
    }));
    const reader = new PostgresOutboxStore(a);
    const start = await reader.pending(1000);
    let cursor = start.length > 0 ? start[start.length - 1].cursor : undefined;
    const seen: string[] = [];
    const readOnce = async () => {
      const page = await reader.pending(1000, cursor);
      if (page.length > 0) cursor = page[page.length - 1].cursor;
      seen.push(...page.map((record) => record.id).filter((id) => id.startsWith('concurrent-')));
    };
    let writing = true;
    const reading = (async () => {
      while (writing) await readOnce();
    })();
    // The relay's "after the last cursor" read: a cursor committing after a higher one would be skipped for good.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const { messages, outbox } = writers[i % 2];
        return messages.add({ roomId: `room-${i % 6}`, userId: 'alice', text: `#${i}` }, (m) =>
          outbox.insert(recordOf(`concurrent-${m.id}`)),
        );
      }),
    );
    writing = false;
    await reading;
    await readOnce();
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
  });

  it('answers nothing from the outbox after the pool closed, and DatabaseUnavailableError for queries', async () => {
    const database = await open();
    const outbox = new PostgresOutboxStore(database);
    await database.onApplicationShutdown();
    expect(await outbox.pending(10)).toEqual([]);
    await expect(outbox.remove(['anything'])).resolves.toBeUndefined();
    await expect(new PostgresMessageRepository(database).has('r', 'x')).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
  });

  it('refuses to start on a server it cannot reach, naming DATABASE_URL and not the password', async () => {
    const port = await freePort();
    const error = await PostgresDatabase.open(`postgres://postgres:s3cret@127.0.0.1:${port}/chat`).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(
      new RegExp(`^Cannot use PostgreSQL at 127\\.0\\.0\\.1:${port}/chat \\(DATABASE_URL\\): .*ECONNREFUSED`),
    );
    expect(error.message).not.toContain('s3cret');
  });
});

describe('a database created before messages had their number in the room', () => {
  const old = [
    ['m1', 'a'],
    ['m2', 'b'],
    ['m3', 'a'],
    ['m4', 'a'],
  ];

  it('SQLite: numbers each room of an older file in stored order on start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const path = join(dir, 'chat.sqlite');
    const file = new Database(path);
    file.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
      room_id TEXT NOT NULL, user_id TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL)`);
    for (const [id, room] of old) {
      file
        .prepare('INSERT INTO messages (id, room_id, user_id, text, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, room, 'u', id, new Date().toISOString());
    }
    file.close();
    const messages = new SqliteMessageRepository(path);
    try {
      expect((await messages.listAfter('a', undefined, 10)).map((m) => [m.id, m.seq])).toEqual([
        ['m1', 1],
        ['m3', 2],
        ['m4', 3],
      ]);
      expect((await messages.add({ roomId: 'b', userId: 'u', text: 'new' })).seq).toBe(2);
    } finally {
      messages.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL: numbers each room of an older table once, when the schema is created', async () => {
    const server = await PostgresTestDatabase.create();
    try {
      await server.query(`CREATE TABLE messages (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE, room_id text NOT NULL, user_id text NOT NULL, text text NOT NULL,
        created_at text NOT NULL, accepted_at double precision NOT NULL)`);
      for (const [id, room] of old) {
        await server.query(
          'INSERT INTO messages (id, room_id, user_id, text, created_at, accepted_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [id, room, 'u', id, new Date().toISOString(), Date.now()],
        );
      }
      const database = await PostgresDatabase.open(server.url());
      try {
        const messages = new PostgresMessageRepository(database);
        expect((await messages.listAfter('a', undefined, 10)).map((m) => [m.id, m.seq])).toEqual([
          ['m1', 1],
          ['m3', 2],
          ['m4', 3],
        ]);
        expect((await messages.add({ roomId: 'b', userId: 'u', text: 'new' })).seq).toBe(2);
      } finally {
        await database.onApplicationShutdown();
      }
    } finally {
      await server.dispose();
    }
  });
});
