import { join } from 'node:path';
import { ChatApi, serviceToken, type StoredMessage } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BRIDGE_SECRET = 'rooms-test-bridge-secret-0123456789abcdef';

async function messageOf(response: Response): Promise<string> {
  return ((await response.json()) as { message: string }).message;
}

describe('rooms with members (ROOMS_OPEN=false): REST and hub, stock clients', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  const clients: TestClient[] = [];
  const connect = async (user: string, hubUrl = service.hubUrl) => {
    const client = await new TestClient(hubUrl, serviceToken(user)).start();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url, ROOMS_OPEN: 'false' });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    await service?.dispose();
    await redis?.dispose();
  });

  it('creates a room with members, the caller included; a second create is a 409', async () => {
    const alice = new ChatApi(service.baseUrl, 'alice');
    const created = await alice.createRoom('club', ['bob', 'bob', 'dave']);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'club', createdBy: 'alice', members: ['alice', 'bob', 'dave'] });
    const again = await new ChatApi(service.baseUrl, 'mallory').createRoom('club');
    expect(again.status).toBe(409);
    expect(await messageOf(again)).toBe('room club already exists');
    const members = await new ChatApi(service.baseUrl, 'bob').request('GET', '/rooms/club/members');
    expect(await members.json()).toEqual({ roomId: 'club', members: ['alice', 'bob', 'dave'] });
  });

  it.each([
    ['a bad id', { id: 'bad room!' }, /^id must be 1-64 letters, digits, "_" or "-"$/],
    ['no id', {}, /^id must be/],
    ['members not an array', { id: 'ok', members: 'bob' }, /^members must be an array of at most 1000 user ids$/],
    ['a bad member', { id: 'ok', members: ['bob', 'not ok'] }, /^members\[1\] must be 1-64 letters/],
    [
      '1001 members',
      { id: 'ok', members: Array.from({ length: 1001 }, (_, i) => `u${i}`) },
      /^members must be an array of at most 1000/,
    ],
  ])('answers POST /rooms with %s with a 400 naming the field', async (_what, body, message) => {
    const response = await new ChatApi(service.baseUrl, 'alice').request('POST', '/rooms', body);
    expect(response.status).toBe(400);
    expect(await messageOf(response)).toMatch(message);
  });

  it('lets only members read, post, type and list members (403 naming the room)', async () => {
    const alice = new ChatApi(service.baseUrl, 'alice');
    expect((await alice.createRoom('vault')).status).toBe(201);
    const message = await alice.post('vault', 'members only');
    expect((await alice.list('vault')).map((m) => m.text)).toEqual(['members only']);
    expect(await alice.typing('vault', true)).toBe(202);

    const carol = new ChatApi(service.baseUrl, 'carol');
    for (const [method, path, body] of [
      ['GET', '/rooms/vault/messages', undefined],
      ['GET', `/rooms/vault/messages?after=${message.id}`, undefined],
      ['POST', '/rooms/vault/messages', { text: 'let me in' }],
      ['POST', '/rooms/vault/typing', { isTyping: true }],
      ['GET', '/rooms/vault/members', undefined],
      ['POST', '/rooms/vault/members', { userId: 'carol' }],
      // A room nobody created is no open door either.
      ['GET', '/rooms/nobody-made-this/messages', undefined],
      ['POST', '/rooms/nobody-made-this/messages', { text: 'hi' }],
    ] as const) {
      const response = await carol.request(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 });
      expect(await messageOf(response)).toMatch(/^not a member of room (vault|nobody-made-this)$/);
    }
    expect((await alice.list('vault')).map((m) => m.text)).toEqual(['members only']);
  });

  it('adds a member (by a member only; 404 for a room that does not exist)', async () => {
    const alice = new ChatApi(service.baseUrl, 'alice');
    expect((await alice.createRoom('guild')).status).toBe(201);
    const erin = new ChatApi(service.baseUrl, 'erin');
    expect((await erin.request('GET', '/rooms/guild/messages')).status).toBe(403);

    const added = await alice.addMember('guild', 'erin');
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ roomId: 'guild', userId: 'erin', added: true });
    expect((await alice.addMember('guild', 'erin')).status).toBe(200); // already a member: nothing changes
    expect((await erin.request('GET', '/rooms/guild/messages')).status).toBe(200);
    expect((await erin.addMember('guild', 'frank')).status).toBe(201); // members may add others

    const missing = await alice.addMember('no-such-room', 'erin');
    expect(missing.status).toBe(404);
    expect(await messageOf(missing)).toBe('room no-such-room does not exist');
    const bad = await alice.request('POST', '/rooms/guild/members', { userId: 'no spaces' });
    expect(bad.status).toBe(400);
    expect(await messageOf(bad)).toMatch(/^userId must be 1-64 letters/);
  });

  it('rejects JoinRoom from a non-member with a completion error; members receive the room', async () => {
    const alice = new ChatApi(service.baseUrl, 'alice');
    expect((await alice.createRoom('hall', ['bob'])).status).toBe(201);
    const [bob, mallory] = [await connect('bob'), await connect('mallory')];
    await bob.connection.invoke('JoinRoom', 'hall');
    await expect(mallory.connection.invoke('JoinRoom', 'hall')).rejects.toThrow('Not allowed to join room:hall.');
    expect(mallory.connection.state).toBe('Connected'); // refused, not disconnected

    const first = await alice.post('hall', 'first');
    await eventually(() => expect(bob.of('ReceiveMessage')).toEqual([[first]]));

    // Membership is checked at each join, not cached: once added, mallory may join.
    expect((await alice.addMember('hall', 'mallory')).status).toBe(201);
    await mallory.connection.invoke('JoinRoom', 'hall');
    const second = await alice.post('hall', 'second');
    await eventually(() => expect(mallory.of('ReceiveMessage')).toEqual([[second]]));
    await sleep(200);
    expect(bob.of('ReceiveMessage')).toEqual([[first], [second]]);
    expect(mallory.of('ReceiveMessage')).toEqual([[second]]);
  });

  it('split roles: the gateway checks membership in the api database (same DATABASE_PATH)', async () => {
    const shared = {
      REDIS_URL: redis.url,
      ROOMS_OPEN: 'false',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      DATABASE_PATH: join(service.dir, 'split.sqlite'),
    };
    const gateway = await ServiceProcess.start({
      ...shared,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: 'gw-rooms',
    });
    const api = await ServiceProcess.start({ ...shared, REALTIME_ROLE: 'api' });
    try {
      const alice = new ChatApi(api.baseUrl, 'alice');
      expect((await alice.createRoom('split', ['bob'])).status).toBe(201);
      const [bob, carol] = [await connect('bob', gateway.hubUrl), await connect('carol', gateway.hubUrl)];
      await bob.connection.invoke('JoinRoom', 'split');
      await expect(carol.connection.invoke('JoinRoom', 'split')).rejects.toThrow('Not allowed to join room:split.');
      expect((await alice.addMember('split', 'carol')).status).toBe(201);
      await carol.connection.invoke('JoinRoom', 'split');
      const message: StoredMessage = await alice.post('split', 'across processes');
      await eventually(() => {
        expect(bob.of('ReceiveMessage')).toEqual([[message]]);
        expect(carol.of('ReceiveMessage')).toEqual([[message]]);
      });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
      await api.dispose();
      await gateway.dispose();
    }
  });
});
