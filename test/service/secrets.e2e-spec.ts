import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_FILE, readYaml } from '../ops/ops-files';
import { ChatApi, serviceToken } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { type FailedStart, ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The constants earlier releases fell back to: public, so anyone could sign with them. */
const OLD_DEV_BRIDGE_SECRET = 'dev-only-bridge-secret-change-me';
const OLD_DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me';
const JWT_SECRET = 'secrets-test-jwt-secret-0123456789abcdef';
const BRIDGE_SECRET = 'secrets-test-bridge-secret-0123456789abcdef';
const SHARE_MESSAGE = /the api and gateway processes must share REALTIME_BRIDGE_SECRET/;

function forgedMessage(room: string): object {
  const message = {
    id: randomUUID(),
    roomId: room,
    userId: 'ceo',
    text: 'wire the money',
    createdAt: new Date().toISOString(),
  };
  return {
    v: 1,
    id: randomUUID(),
    type: 'chat.message.created',
    target: { kind: 'group', name: `room:${room}` },
    method: 'ReceiveMessage',
    args: [message],
    ts: Date.now(),
    volatile: false,
  };
}

function postToBridge(service: ServiceProcess, secret: string, envelopes: object[]): Promise<Response> {
  return fetch(`${service.baseUrl}/internal/realtime/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(envelopes),
  });
}

/** The refusal names the variable and says what to do; nothing listened, and it was no crash. */
function expectRefused(result: FailedStart, message: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.output).toMatch(message);
  expect(result.output).not.toMatch(/listening on/);
  expect(result.output).not.toMatch(/\n\s+at /); // a message, not a stack trace
}

describe('secrets: nothing to forge with on a fresh installation', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis.dispose();
  });

  describe('role all with JWT_SECRET set and REALTIME_BRIDGE_SECRET unset (development)', () => {
    let service: ServiceProcess;

    beforeAll(async () => {
      // Every event goes over the in-process HTTP bridge: the real path must work with the generated secret.
      service = await ServiceProcess.start({ REDIS_URL: redis.url, REALTIME_USE_REDIS_STREAMS: 'false' });
    });

    afterAll(async () => {
      await service?.dispose();
    });

    it('answers a bridge post signed with the old development secret with 401 and delivers nothing', async () => {
      const client = await new TestClient(service.hubUrl, serviceToken('alice')).start();
      try {
        await client.connection.invoke('JoinRoom', 'forge');
        const forged = await postToBridge(service, OLD_DEV_BRIDGE_SECRET, [forgedMessage('forge')]);
        expect(forged.status).toBe(401);
        // The publisher of this process got the same (generated) secret: real messages still arrive over the bridge.
        const real = await new ChatApi(service.baseUrl, 'bob').post('forge', 'hello');
        await eventually(() => expect(client.of('ReceiveMessage')).toEqual([[real]]));
        await sleep(200);
        expect(client.of('ReceiveMessage')).toEqual([[real]]);
        expect(await service.metrics()).toMatch(
          /realtime_gateway_envelopes_received_total\{transport="http-bridge"\} 1\b/,
        );
      } finally {
        await client.stop();
      }
    });

    it('generated the bridge secret for this installation, said so, and never logged it', async () => {
      const file = join(service.dir, 'secrets.json');
      const secrets = JSON.parse(readFileSync(file, 'utf8'));
      expect(secrets.REALTIME_BRIDGE_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(secrets).not.toHaveProperty('JWT_SECRET'); // set in the environment: nothing generated for it
      const output = service.output.join('');
      expect(output).toContain(`Generated REALTIME_BRIDGE_SECRET for this installation in ${file}`);
      expect(output).not.toContain(secrets.REALTIME_BRIDGE_SECRET);
    });
  });

  describe('production mode (NODE_ENV=production) refuses to start', () => {
    const production = () => ({
      NODE_ENV: 'production',
      REDIS_URL: redis.url,
      JWT_SECRET,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    });

    it('without JWT_SECRET (instead of running on a public development secret), naming it', async () => {
      const result = await ServiceProcess.failToStart({ ...production(), JWT_SECRET: undefined });
      expectRefused(result, /JWT_SECRET is not set.*NODE_ENV=production/);
    });

    it('without REALTIME_BRIDGE_SECRET while the bridge is on, naming it', async () => {
      const result = await ServiceProcess.failToStart({ ...production(), REALTIME_BRIDGE_SECRET: undefined });
      expectRefused(result, /REALTIME_BRIDGE_SECRET is not set.*REALTIME_BRIDGE_RECEIVER=false/);
    });

    it('with DEV_TOKENS=true, naming it', async () => {
      expectRefused(
        await ServiceProcess.failToStart({ ...production(), DEV_TOKENS: 'true' }),
        /DEV_TOKENS=true is refused/,
      );
    });

    it.each(['JWT_SECRET', 'REALTIME_BRIDGE_SECRET'])(
      'with a %s shorter than 32 characters, naming it',
      async (name) => {
        const result = await ServiceProcess.failToStart({ ...production(), [name]: 'short-but-not-empty' });
        expectRefused(result, new RegExp(`${name} is too short \\(19 characters\\).*at least 32`));
      },
    );
  });

  it('production mode starts with both secrets: no development tokens, members-only rooms, old secrets useless', async () => {
    const service = await ServiceProcess.start({
      NODE_ENV: 'production',
      REDIS_URL: redis.url,
      JWT_SECRET,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
    });
    try {
      expect(await (await fetch(`${service.baseUrl}/demo/config.json`)).json()).toMatchObject({ devTokens: false });
      expect((await fetch(`${service.baseUrl}/dev/token`, { method: 'POST' })).status).toBe(403);
      const old = await new ChatApi(service.baseUrl, 'mallory', { secret: OLD_DEV_JWT_SECRET }).request(
        'GET',
        '/rooms/1/messages',
      );
      expect(old.status).toBe(401);
      expect((await postToBridge(service, OLD_DEV_BRIDGE_SECRET, [])).status).toBe(401);
      expect((await postToBridge(service, BRIDGE_SECRET, [])).status).toBe(200);
      const stranger = await new ChatApi(service.baseUrl, 'mallory', { secret: JWT_SECRET }).request(
        'GET',
        '/rooms/1/messages',
      );
      expect(stranger.status).toBe(403);
      expect(existsSync(join(service.dir, 'secrets.json'))).toBe(false); // production never generates or reads one
    } finally {
      await service.dispose();
    }
  });

  describe('split roles (REALTIME_ROLE=api / gateway) share one bridge secret, never a generated one', () => {
    it('refuses a gateway without REALTIME_BRIDGE_SECRET, even in development', async () => {
      const result = await ServiceProcess.failToStart({ REALTIME_ROLE: 'gateway', REDIS_URL: redis.url });
      expectRefused(result, SHARE_MESSAGE);
    });

    it('refuses an api that posts to a bridge (REALTIME_HTTP_BRIDGE_URL) without REALTIME_BRIDGE_SECRET', async () => {
      const result = await ServiceProcess.failToStart({
        REALTIME_ROLE: 'api',
        REDIS_URL: redis.url,
        REALTIME_HTTP_BRIDGE_URL: 'http://127.0.0.1:9/internal/realtime/events',
      });
      expectRefused(result, SHARE_MESSAGE);
    });

    it('starts a gateway with REALTIME_BRIDGE_RECEIVER=false without a secret, and it has no bridge endpoint', async () => {
      const gateway = await ServiceProcess.start({
        REALTIME_ROLE: 'gateway',
        REDIS_URL: redis.url,
        REALTIME_BRIDGE_RECEIVER: 'false',
        NODE_ENV: 'production',
        JWT_SECRET,
      });
      try {
        expect((await postToBridge(gateway, OLD_DEV_BRIDGE_SECRET, [forgedMessage('x')])).status).toBe(404);
        expect((await gateway.health()).status).toBe(200);
      } finally {
        await gateway.dispose();
      }
    });
  });

  describe('development start with nothing set', () => {
    let service: ServiceProcess;
    const unset = { JWT_SECRET: undefined, REALTIME_BRIDGE_SECRET: undefined };

    afterAll(async () => {
      await service?.dispose();
    });

    it('generates both secrets into a 0600 file next to the database, and npm run token signs with it', async () => {
      service = await ServiceProcess.start({ ...unset, REDIS_URL: redis.url });
      const file = join(service.dir, 'secrets.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secrets = JSON.parse(readFileSync(file, 'utf8'));
      expect(Object.keys(secrets).sort()).toEqual(['JWT_SECRET', 'REALTIME_BRIDGE_SECRET']);
      for (const value of Object.values<string>(secrets)) expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(secrets.JWT_SECRET).not.toBe(secrets.REALTIME_BRIDGE_SECRET);
      const output = service.output.join('');
      expect(output).toContain(`Generated JWT_SECRET, REALTIME_BRIDGE_SECRET for this installation in ${file}`);
      for (const value of Object.values<string>(secrets)) expect(output).not.toContain(value);

      const token = await service.token('alice');
      expect(token).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
      const alice = new ChatApi(service.baseUrl, 'alice', { token: token.stdout });
      expect((await alice.request('GET', '/rooms/lobby/messages')).status).toBe(200);
      const old = new ChatApi(service.baseUrl, 'mallory', { secret: OLD_DEV_JWT_SECRET });
      expect((await old.request('GET', '/rooms/lobby/messages')).status).toBe(401);
      // The demo page still works with nothing set: development tokens are on while the JWT secret is generated.
      expect(await (await fetch(`${service.baseUrl}/demo/config.json`)).json()).toMatchObject({ devTokens: true });
    });

    it('reuses the file on the next start: tokens issued before the restart stay valid', async () => {
      const file = join(service.dir, 'secrets.json');
      const before = readFileSync(file, 'utf8');
      const token = (await service.token('alice')).stdout;
      await service.stop();
      service.output.length = 0;
      await service.start();
      expect(readFileSync(file, 'utf8')).toBe(before);
      const output = service.output.join('');
      expect(output).not.toMatch(/Generated/);
      expect(output).toContain(`JWT_SECRET, REALTIME_BRIDGE_SECRET read from ${file}`);
      const alice = new ChatApi(service.baseUrl, 'alice', { token });
      expect((await alice.request('GET', '/rooms/lobby/messages')).status).toBe(200);
    });

    it('gives another installation other secrets (npm run token before its first start generates them)', async () => {
      const other = await ServiceProcess.prepare(unset);
      try {
        const token = await other.token('alice');
        expect(token.code).toBe(0);
        expect(token.stderr).toContain(
          `Generated JWT_SECRET for this installation in ${join(other.dir, 'secrets.json')}`,
        );
        const mine = JSON.parse(readFileSync(join(service.dir, 'secrets.json'), 'utf8'));
        const theirs = JSON.parse(readFileSync(join(other.dir, 'secrets.json'), 'utf8'));
        expect(theirs.JWT_SECRET).not.toBe(mine.JWT_SECRET);
        const alice = new ChatApi(service.baseUrl, 'alice', { token: token.stdout });
        expect((await alice.request('GET', '/rooms/lobby/messages')).status).toBe(401);
      } finally {
        await other.dispose();
      }
    });
  });

  it('docker-compose.yml ships no secret: each one is required from the environment, and no development tokens', () => {
    const services = Object.entries<any>(readYaml(COMPOSE_FILE).services).filter(
      ([, service]) => service.environment?.REALTIME_ROLE,
    );
    expect(services.map(([name]) => name).sort()).toEqual(['api', 'gateway-1', 'gateway-2']);
    for (const [name, { environment }] of services) {
      expect({ name, jwt: environment.JWT_SECRET }).toEqual({
        name,
        jwt: expect.stringMatching(/^\$\{JWT_SECRET:\?[^}]+\}$/),
      });
      expect({ name, bridge: environment.REALTIME_BRIDGE_SECRET }).toEqual({
        name,
        bridge: expect.stringMatching(/^\$\{REALTIME_BRIDGE_SECRET:\?[^}]+\}$/),
      });
      expect({ name, devTokens: environment.DEV_TOKENS }).toEqual({ name, devTokens: undefined });
    }
  });
});
