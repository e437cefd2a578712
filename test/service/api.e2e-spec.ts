import { ChatApi, serviceToken } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

describe('reference service: REST API and hub (npm start role "all", real Redis, stock clients)', () => {
  let redis: RedisServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await service?.dispose();
    await redis.dispose();
  });

  it('stores messages and lists them after an id, in order', async () => {
    const api = new ChatApi(service.baseUrl, 'alice');
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await api.post('history', `m${i}`));
    expect(sent[0]).toMatchObject({ roomId: 'history', userId: 'alice', text: 'm0' });
    expect(sent[0].id).toEqual(expect.any(String));
    expect(new Date(sent[0].createdAt).toISOString()).toBe(sent[0].createdAt);
    // acceptedAt is the same instant with sub-millisecond precision (what latency is measured from).
    expect(Math.floor(sent[0].acceptedAt)).toBe(Date.parse(sent[0].createdAt));
    expect((await api.list('history')).map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect((await api.list('history', sent[1].id)).map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
    expect((await api.list('history', sent[1].id, 2)).map((m) => m.text)).toEqual(['m2', 'm3']);
    expect(await api.list('history', sent[4].id)).toEqual([]);
  });

  it.each([
    ['POST', '/rooms/bad room!/messages', { text: 'x' }, /roomId must be/],
    ['POST', '/rooms/1/messages', { text: '' }, /text must be a non-empty string/],
    ['POST', '/rooms/1/messages', { text: 'x'.repeat(4001) }, /at most 4000 characters/],
    ['POST', '/rooms/1/messages', { words: 'x' }, /text must be/],
    ['POST', '/rooms/1/typing', { isTyping: 'yes' }, /isTyping must be true or false/],
    ['GET', '/rooms/1/messages?limit=0', undefined, /limit must be an integer from 1 to 500/],
    ['GET', '/rooms/1/messages?after=unknown-id', undefined, /after must be the id of a message in this room/],
  ])('answers %s %s with a 400 naming the field', async (method, path, body, message) => {
    const response = await new ChatApi(service.baseUrl, 'alice').request(method, path, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
  });

  it('refuses requests without a valid token', async () => {
    expect((await fetch(`${service.baseUrl}/rooms/1/messages`)).status).toBe(401);
    const forged = await fetch(`${service.baseUrl}/rooms/1/messages`, {
      headers: { authorization: `Bearer ${serviceToken('mallory', 'other-secret')}` },
    });
    expect(forged.status).toBe(401);
  });

  it('delivers a posted message to exactly the room members, once, and typing coalesced', async () => {
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((user) => new TestClient(service.hubUrl, serviceToken(user)).start()),
    );
    try {
      await alice.connection.invoke('JoinRoom', 'live');
      await bob.connection.invoke('JoinRoom', 'live');
      await carol.connection.invoke('JoinRoom', 'elsewhere');
      const api = new ChatApi(service.baseUrl, 'alice');
      const message = await api.post('live', 'hello room');
      await eventually(() => {
        expect(alice.of('ReceiveMessage')).toEqual([[message]]);
        expect(bob.of('ReceiveMessage')).toEqual([[message]]);
      });
      // A burst of keystrokes, then a stop: the room sees the first state and the final one.
      for (let i = 0; i < 10; i++) expect(await api.typing('live', true)).toBe(202);
      expect(await api.typing('live', false)).toBe(202);
      await eventually(() =>
        expect(bob.of('UserTyping').at(-1)).toEqual([{ roomId: 'live', userId: 'alice', isTyping: false }]),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(bob.of('UserTyping').length).toBeLessThan(11);
      expect(carol.received).toEqual([]);
      expect(bob.of('ReceiveMessage')).toHaveLength(1);
    } finally {
      await Promise.all([alice, bob, carol].map((c) => c.stop()));
    }
  });

  it('serves the demo page, the SignalR browser bundle, metrics and health', async () => {
    expect(await (await fetch(`${service.baseUrl}/`)).text()).toContain('/vendor/signalr.min.js');
    expect((await fetch(`${service.baseUrl}/vendor/signalr.min.js`)).status).toBe(200);
    const metrics = await service.metrics();
    expect(metrics).toContain('realtime_published_envelopes_total');
    expect(metrics).toContain('realtime_delivery_latency_seconds');
    const health = await service.health();
    expect(health.status).toBe(200);
    expect(health.body.info).toMatchObject({
      realtime_transport: { status: 'up', active: 'redis-streams', degraded: false },
      realtime_gateway: { status: 'up', consumer: 'running' },
      redis: { reachable: true },
    });
  });
});
