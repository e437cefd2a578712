import { ChatApi } from '../support/chat-api';
import { freePort } from '../support/free-port';
import { type ServiceEnv, ServiceProcess } from '../support/service-process';
import { eventually } from '../support/stream-reader';

const JWT_SECRET = 'health-test-jwt-secret-0123456789abcdef';
const BRIDGE_SECRET = 'health-test-bridge-secret-0123456789abcdef';
const HEALTH_TOKEN = 'health-test-token-0123456789abcdefghijkl';
const BRIDGE_PATH = '/internal/realtime/events';

/** Refused tokens: a near miss of the same length, a prefix, the token without its scheme, another scheme. */
const WRONG_AUTHORIZATIONS = [
  `Bearer ${HEALTH_TOKEN.slice(0, -1)}X`,
  `Bearer ${HEALTH_TOKEN.slice(0, 16)}`,
  HEALTH_TOKEN,
  `Basic ${HEALTH_TOKEN}`,
];

interface Answer {
  status: number;
  text: string;
  body: Record<string, any>;
  poweredBy: string | null;
}

async function get(service: ServiceProcess, path: string, authorization?: string): Promise<Answer> {
  const response = await fetch(`${service.baseUrl}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  const text = await response.text();
  let body: Record<string, any> = {};
  try {
    body = JSON.parse(text) as Record<string, any>;
  } catch {
    // not JSON: `text` is what the test looks at
  }
  return { status: response.status, text, body, poweredBy: response.headers.get('x-powered-by') };
}

/**
 * Status only, with the HTTP status code terminus gives that status (what a load balancer's probe reads). `status`
 * unset: either one, for a service whose health a loaded machine may flip (an own-bridge probe timing out).
 */
function expectStatusOnly(answer: Answer, status?: 'ok' | 'error'): void {
  const expected = status ?? answer.body.status;
  expect({ code: answer.status, body: answer.body }).toEqual({
    code: expected === 'ok' ? 200 : 503,
    body: { status: expected },
  });
  expect(['ok', 'error']).toContain(expected);
  for (const leak of [BRIDGE_PATH, '127.0.0.1', 'unavailable', 'redis', 'transport', 'gateway']) {
    expect(answer.text).not.toContain(leak);
  }
}

/** Nothing listens on a port freePort() handed out: Redis (and a bridge URL there) is down from the start. */
async function unreachableUrl(scheme: 'redis' | 'http'): Promise<string> {
  return `${scheme}://127.0.0.1:${await freePort()}`;
}

describe('/health exposure and response headers (the service process, src/main.ts)', () => {
  describe('production, role all, Redis unreachable (degraded: events over its own HTTP bridge)', () => {
    let service: ServiceProcess;

    beforeAll(async () => {
      service = await ServiceProcess.start({
        NODE_ENV: 'production',
        JWT_SECRET,
        REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
        HEALTH_TOKEN,
        REDIS_URL: await unreachableUrl('redis'),
      });
      // Until the bridge's first probe passed the chain may report down; from then on it stays up, degraded.
      await eventually(async () => {
        const details = await get(service, '/health', `Bearer ${HEALTH_TOKEN}`);
        expect(details.status).toBe(200);
        expect(details.body.details?.redis).toMatchObject({ reachable: false });
      }, 30_000);
    });

    afterAll(async () => {
      await service?.dispose();
    });

    it('shows the details (bridge URL, Redis error) to a caller with Authorization: Bearer <HEALTH_TOKEN>', async () => {
      const answer = await get(service, '/health', `Bearer ${HEALTH_TOKEN}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'ok', info: expect.any(Object), details: expect.any(Object) });
      // What anonymous callers must not see is really there: the tests below are not vacuous.
      expect(answer.text).toContain(`127.0.0.1:${service.port}${BRIDGE_PATH}`);
      expect(answer.text).toContain('redis-streams is unavailable');
    });

    it('answers an anonymous caller with {"status":"ok"} and nothing else', async () => {
      await eventually(async () => expectStatusOnly(await get(service, '/health'), 'ok'), 30_000);
    });

    it.each(WRONG_AUTHORIZATIONS)('answers Authorization: %s as anonymous (not 401)', async (authorization) => {
      expectStatusOnly(await get(service, '/health', authorization));
    });

    it('sends no X-Powered-By on /health, on the REST API (201 and 401) and on a 404', async () => {
      const answers = [
        await get(service, '/health'),
        await get(service, '/health', `Bearer ${HEALTH_TOKEN}`),
        await get(service, '/rooms/1/messages'),
        await get(service, '/no-such-route'),
      ];
      const created = await new ChatApi(service.baseUrl, 'alice', { secret: JWT_SECRET }).request('POST', '/rooms', {
        id: 'health-exposure',
      });
      expect([created.status, ...answers.slice(2).map((answer) => answer.status)]).toEqual([201, 401, 404]);
      expect(created.headers.get('x-powered-by')).toBeNull();
      expect(answers.map((answer) => answer.poweredBy)).toEqual([null, null, null, null]);
    });

    it('says how /health is exposed at start-up and never logs the token', () => {
      const output = service.output.join('');
      expect(output).toContain('details for Authorization: Bearer <HEALTH_TOKEN>');
      expect(output).not.toContain(HEALTH_TOKEN);
      expect(output).not.toContain(HEALTH_TOKEN.slice(0, 16));
    });
  });

  describe('production, role api, Redis and the bridge unreachable (down: 503)', () => {
    let service: ServiceProcess;
    let bridgeUrl: string;

    beforeAll(async () => {
      bridgeUrl = `${await unreachableUrl('http')}${BRIDGE_PATH}`;
      service = await ServiceProcess.start({
        NODE_ENV: 'production',
        REALTIME_ROLE: 'api',
        JWT_SECRET,
        REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
        REALTIME_HTTP_BRIDGE_URL: bridgeUrl,
        HEALTH_TOKEN,
        REDIS_URL: await unreachableUrl('redis'),
      });
      // Both transports are down from the start; wait until their probes have said so.
      await eventually(async () => {
        const details = await get(service, '/health', `Bearer ${HEALTH_TOKEN}`);
        expect(details.status).toBe(503);
        expect(details.text).toContain(bridgeUrl);
      }, 30_000);
    });

    afterAll(async () => {
      await service?.dispose();
    });

    it('gives the token holder the error details and anonymous callers {"status":"error"}, both with 503', async () => {
      const details = await get(service, '/health', `Bearer ${HEALTH_TOKEN}`);
      expect(details.status).toBe(503);
      expect(details.body).toMatchObject({ status: 'error', error: expect.any(Object), details: expect.any(Object) });
      expectStatusOnly(await get(service, '/health'), 'error');
    });

    it.each(WRONG_AUTHORIZATIONS)('answers Authorization: %s as anonymous (503, not 401)', async (authorization) => {
      const answer = await get(service, '/health', authorization);
      expectStatusOnly(answer, 'error');
      expect(answer.text).not.toContain(bridgeUrl);
    });
  });

  describe('development (NODE_ENV=development): unchanged', () => {
    let service: ServiceProcess;

    beforeAll(async () => {
      // A short token is fine outside production, and does not hide anything there.
      service = await ServiceProcess.start({ HEALTH_TOKEN: 'dev', REDIS_URL: await unreachableUrl('redis') });
    });

    afterAll(async () => {
      await service?.dispose();
    });

    it('shows the details to anonymous callers, and sends no X-Powered-By', async () => {
      await eventually(async () => {
        const answer = await get(service, '/health');
        expect(answer.body).toMatchObject({ info: expect.any(Object), details: { redis: { reachable: false } } });
      }, 30_000);
      const answers = [await get(service, '/health'), await get(service, '/no-such-route')];
      expect(answers.map((answer) => answer.poweredBy)).toEqual([null, null]);
    });
  });

  it('production refuses a HEALTH_TOKEN under 32 characters, naming it, without echoing it', async () => {
    const env: ServiceEnv = {
      NODE_ENV: 'production',
      JWT_SECRET,
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      HEALTH_TOKEN: 'too-short-health-token',
      REDIS_URL: await unreachableUrl('redis'),
    };
    const result = await ServiceProcess.failToStart(env);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/HEALTH_TOKEN is too short \(22 characters\).*at least 32/);
    expect(result.output).not.toContain('too-short-health-token');
    expect(result.output).not.toMatch(/listening on/);
  });
});
