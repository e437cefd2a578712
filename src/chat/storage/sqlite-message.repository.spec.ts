import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChatMessage } from '../chat-message';
import { MessagesNotStoredError } from './messages-not-stored.error';
import { SqliteMessageRepository } from './sqlite-message.repository';
import { SqliteOutboxStore } from './sqlite-outbox.store';

describe('SqliteMessageRepository group commit', () => {
  let dir: string;
  let path: string;
  let messages: SqliteMessageRepository;
  let outbox: SqliteOutboxStore;
  /** Another connection to the file: what it sees is what was committed. */
  let reader: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
    path = join(dir, 'chat.sqlite');
    messages = new SqliteMessageRepository(path);
    outbox = new SqliteOutboxStore(messages.database);
    reader = new Database(path, { readonly: true });
  });

  afterEach(() => {
    reader.close();
    if (messages.database.open) messages.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const committed = (id: string) =>
    reader
      .prepare(
        'SELECT m.room_seq AS seq, o.id AS record FROM messages m LEFT JOIN realtime_outbox o ON o.id = ?' +
          ' WHERE m.id = ?',
      )
      .get(`record-${id}`, id) as { seq: number; record: string | null } | undefined;

  /** What the chat does: the message and its outbox record in the message's transaction. */
  const post = (roomId: string, text: string) =>
    messages.add({ roomId, userId: 'u', text }, (stored) =>
      outbox.insert({ id: `record-${stored.id}`, type: 't', targetKey: `group:room:${roomId}`, json: '{}' }),
    );

  it('stores concurrent posts in one transaction, each durable with its record when its promise resolves', async () => {
    const seen: Array<{ id: string; room: string; seq: number; visible: boolean }> = [];
    const posts = Array.from({ length: 300 }, (_, i) =>
      post(`room-${i % 3}`, `text ${i}`).then((message) => {
        const row = committed(message.id);
        seen.push({
          id: message.id,
          room: message.roomId,
          seq: message.seq,
          visible: row?.record === `record-${message.id}`,
        });
        return message;
      }),
    );
    const stored = await Promise.all(posts);
    expect(seen.every((s) => s.visible)).toBe(true);
    // Numbered per room in the order they were posted (the commit order), and answered in that order.
    for (const room of ['room-0', 'room-1', 'room-2']) {
      expect(stored.filter((m) => m.roomId === room).map((m) => m.seq)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    }
    expect(seen.map((s) => s.id)).toEqual(stored.map((m) => m.id));
    expect(outbox.count()).toBe(300);
  });

  it('rolls back only the post whose own work failed', async () => {
    const failing = messages.add({ roomId: 'r', userId: 'u', text: 'bad' }, () => {
      throw new Error('envelope too large');
    });
    const results = await Promise.allSettled([post('r', 'one'), failing, post('r', 'two')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('envelope too large'));
    const rows = reader.prepare('SELECT text, room_seq FROM messages ORDER BY seq').all();
    expect(rows).toEqual([
      { text: 'one', room_seq: 1 },
      { text: 'two', room_seq: 2 },
    ]);
    expect(outbox.count()).toBe(2);
  });

  it('fails every post of a batch whose transaction failed, with MessagesNotStoredError, storing none', async () => {
    const killer = messages.add({ roomId: 'r', userId: 'u', text: 'x' }, () => {
      // What SQLite does on a full disk or an I/O error: the whole transaction is gone.
      messages.database.exec('ROLLBACK');
    });
    const results = await Promise.allSettled([post('r', 'one'), killer, post('r', 'two')]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as MessagesNotStoredError;
      expect(reason).toBeInstanceOf(MessagesNotStoredError);
      expect(reason.count).toBe(3);
      expect(reason.message).toMatch(/^storing a batch of 3 messages failed, none was stored: /);
    }
    expect(reader.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 0 });
    expect(outbox.count()).toBe(0);
    // The next batch stores as usual.
    await expect(post('r', 'three')).resolves.toMatchObject<Partial<ChatMessage>>({ seq: 1 });
  });

  it('commits what was posted in the last turn before it closes, and refuses what comes after', async () => {
    const last = post('r', 'last');
    messages.onApplicationShutdown();
    await expect(last).resolves.toMatchObject({ seq: 1 });
    expect(committed((await last).id)?.seq).toBe(1);
    await expect(post('r', 'late')).rejects.toBeInstanceOf(MessagesNotStoredError);
  });
});
