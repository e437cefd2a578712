/**
 * The floor of `npm run bench:api`: the least a Node process can do to accept a chat message durably with the
 * reference service's store. A bare `node:http` server (no Nest, no Express, no publisher) that checks the token with
 * the service's verifier, parses the JSON body, and stores the message and an outbox record in one SQLite
 * transaction with the service's own repository and outbox classes (same file settings: WAL, synchronous=NORMAL),
 * then answers 201 with the stored message. Whatever the reference API spends above this is what its framework,
 * its publisher and its features cost.
 *
 * Run by bench/api-throughput.bench.ts as a child process: PORT, JWT_SECRET, DATABASE_PATH. Serves
 * POST /rooms/:room/messages and GET /health.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import { JwtVerifier } from '@realtime-streams/gateway';
import { SqliteMessageRepository } from '../src/chat/storage/sqlite-message.repository';
import { SqliteOutboxStore } from '../src/chat/storage/sqlite-outbox.store';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

Logger.overrideLogger(false);
const verifier = new JwtVerifier({ secret: env('JWT_SECRET') });
const messages = new SqliteMessageRepository(env('DATABASE_PATH'));
const outbox = new SqliteOutboxStore(messages.database);
const PATH = /^\/rooms\/([A-Za-z0-9_-]{1,64})\/messages$/;

function answer(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === '/health') return answer(res, 200, { status: 'ok' });
  const room = req.method === 'POST' ? PATH.exec(req.url ?? '')?.[1] : undefined;
  if (!room) return answer(res, 404, { message: 'not found' });
  const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  let user: string;
  try {
    user = (await verifier.verify(token ?? '')).id;
  } catch {
    return answer(res, 401, { message: 'invalid token' });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = (JSON.parse(Buffer.concat(chunks).toString()) as { text?: unknown }).text;
  if (typeof text !== 'string' || text === '') return answer(res, 400, { message: 'text is required' });
  const stored = await messages.add({ roomId: room, userId: user, text }, (message) =>
    outbox.insert({
      id: message.id,
      type: 'chat.message.created',
      targetKey: `group:room:${room}`,
      json: JSON.stringify({ v: 1, id: message.id, method: 'ReceiveMessage', args: [message] }),
    }),
  );
  answer(res, 201, stored);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => answer(res, 500, { message: String(error) }));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  messages.onApplicationShutdown();
  process.exit(0);
});
