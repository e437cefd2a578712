/**
 * The plan's baseline, the bridge the backend had before this project: an API that, inside the request that caused
 * an event, awaits one HTTP POST of that event to the realtime service before it answers. Here the realtime
 * service is the gateway's bridge receiver (it delivers, then answers), the store is SQLite as in the reference
 * service, and tokens are checked the same way (HS256), so the only difference from the reference API is the
 * synchronous POST per event in place of the asynchronous, batched publisher.
 *
 * Run by bench/e2e.bench.ts as a child process: PORT, BRIDGE_URL, BRIDGE_SECRET, JWT_SECRET, DATABASE_PATH.
 * Serves POST /rooms/:room/messages (201 with the stored message) and POST /rooms/:room/typing (202).
 *
 * With several realtime servers (`legacy-backplane`, backplane-gateway.process.ts) BRIDGE_URL lists them, comma
 * separated, and each event goes to the next one in turn: the round-robin load balancer the old design put in front
 * of its servers, without the extra hop a real one adds. The message carries its number in its room (`seq`, as the
 * reference API's does) so the benches can check order; the event does not (the old design had no such number).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { epochMs } from '@realtime-streams/contracts';
import { Agent, request } from 'undici';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const bridgeUrls = env('BRIDGE_URL').split(',');
let nextBridge = 0;
const bridgeSecret = env('BRIDGE_SECRET');
const jwtSecret = env('JWT_SECRET');
// Kept-alive connections to the realtime service, as an HTTP client of the time would have had.
const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
const db = new Database(env('DATABASE_PATH'));
db.pragma('journal_mode = WAL');
db.exec(
  'CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, room_id TEXT, user_id TEXT, text TEXT, created_at TEXT, accepted_at REAL)',
);
const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
/** Per room, the last message's number: one process stores in request order, so counting here is the commit order. */
const roomSeqs = new Map<string, number>();

/** The user of an HS256 token with a valid signature and `exp` in the future, else undefined. */
function userOf(header: string | undefined): string | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const [head, payload, signature] = token?.split('.') ?? [];
  if (!head || !payload || !signature) return undefined;
  const expected = createHmac('sha256', jwtSecret).update(`${head}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: string; exp?: number };
  return claims.exp && claims.exp * 1000 > Date.now() ? claims.sub : undefined;
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
}

/** The synchronous POST of one event: the request waits for the realtime service's answer. */
async function postEvent(room: string, type: string, method: string, args: unknown[], volatile: boolean) {
  const envelope = {
    v: 1,
    id: randomUUID(),
    type,
    target: { kind: 'group', name: `room:${room}` },
    method,
    args,
    ts: epochMs(),
    volatile,
  };
  const bridgeUrl = bridgeUrls[nextBridge];
  nextBridge = (nextBridge + 1) % bridgeUrls.length;
  const response = await request(bridgeUrl, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bridgeSecret}` },
    body: JSON.stringify([envelope]),
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`realtime service answered ${response.statusCode}`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = /^\/rooms\/([^/]+)\/(messages|typing)$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) return void res.writeHead(404).end();
  const user = userOf(req.headers.authorization);
  if (!user) return void res.writeHead(401).end();
  const [, room, what] = match;
  const body = await bodyOf(req);
  if (what === 'typing') {
    await postEvent(
      room,
      'chat.typing',
      'UserTyping',
      [{ roomId: room, userId: user, isTyping: body.isTyping === true }],
      true,
    );
    return void res.writeHead(202).end();
  }
  const acceptedAt = epochMs();
  const message = {
    id: randomUUID(),
    roomId: room,
    userId: user,
    text: String(body.text),
    createdAt: new Date(acceptedAt).toISOString(),
    acceptedAt,
    seq: (roomSeqs.get(room) ?? 0) + 1,
  };
  roomSeqs.set(room, message.seq);
  insert.run(message.id, room, user, message.text, message.createdAt, acceptedAt);
  await postEvent(room, 'chat.message.created', 'ReceiveMessage', [message], false);
  res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(message));
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(502).end(String(error));
  });
});
server.listen(Number(env('PORT')), '127.0.0.1', () => process.send?.({ event: 'listening' }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
