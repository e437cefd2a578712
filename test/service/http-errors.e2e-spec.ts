import { ChatApi, serviceToken } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';

const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

/** A raw request with the user's token, a body as given and headers as given. */
function send(
  service: ServiceProcess,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${service.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceToken('alice')}`, ...headers },
    body,
  });
}

describe('reference service: bad input is a 4xx that names the problem, never a 500 or a logged stack', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  let logStart = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
    logStart = service.output.join('').length;
  });

  afterAll(async () => {
    await service?.dispose();
    await redis?.dispose();
  });

  it.each([
    ['after twice', '/rooms/1/messages?after=a&after=b', /after must be given once/],
    ['limit twice', '/rooms/1/messages?limit=1&limit=2', /limit must be given once/],
    ['after and limit twice', '/rooms/1/messages?after=a&after=a&limit=5&limit=5', /must be given once/],
  ])('answers a query parameter given more than once (%s) with a 400 naming it', async (_what, path, message) => {
    const response = await new ChatApi(service.baseUrl, 'alice').request('GET', path);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
  });

  it.each([
    [
      'a body over the limit',
      413,
      JSON.stringify({ text: 'x'.repeat(200_000) }),
      { 'content-type': 'application/json' },
      /request body over 102400 bytes/,
    ],
    [
      'an unsupported charset',
      415,
      '{"text":"caf\xe9"}',
      { 'content-type': 'application/json; charset=latin1' },
      /unsupported charset "LATIN1": send JSON in UTF-8/,
    ],
    [
      'an unsupported content encoding',
      415,
      '{"text":"x"}',
      { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      /unsupported content encoding "x-unknown"/,
    ],
    [
      'JSON that does not parse',
      400,
      '{"text": "x",',
      { 'content-type': 'application/json' },
      /body is not valid JSON/,
    ],
    [
      'a JSON body that is not an object or array',
      400,
      '"just a string"',
      { 'content-type': 'application/json' },
      /body is not valid JSON/,
    ],
  ])('answers %s with a %d JSON answer naming the problem', async (_what, status, body, headers, message) => {
    const response = await send(service, '/rooms/1/messages', body, headers);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ statusCode: status, message: expect.stringMatching(message) });
  });

  it('never answers odd input with a 500', async () => {
    const api = new ChatApi(service.baseUrl, 'alice');
    const requests: Array<[string, string, unknown]> = [
      ['GET', '/rooms/1/messages?after[a]=1', undefined],
      ['GET', '/rooms/1/messages?limit[]=1', undefined],
      ['GET', '/rooms/1/messages?limit=1e3', undefined],
      ['GET', `/rooms/${'x'.repeat(5000)}/messages`, undefined],
      ['GET', '/rooms/%E0%A4%A/messages', undefined],
      ['POST', '/rooms/1/messages', [{ text: 'in an array' }]],
      ['POST', '/rooms/1/messages', { text: { nested: true } }],
      ['POST', '/rooms/1/typing', []],
      ['POST', '/rooms', { id: ['a'], members: 'bob' }],
      ['POST', '/rooms', { id: 'r', members: [{}] }],
      ['POST', '/rooms/1/members', { userId: 42 }],
      ['POST', '/dev/token', { userId: { $gt: '' } }],
    ];
    const statuses = await Promise.all(
      requests.map(async ([method, path, body]) => [method, path, (await api.request(method, path, body)).status]),
    );
    expect(statuses.filter(([, , status]) => Number(status) >= 500)).toEqual([]);
    expect(
      (
        await send(service, '/rooms/1/messages', Buffer.from([0xff, 0xfe, 0x00]), {
          'content-type': 'application/json',
        })
      ).status,
    ).toBe(400);
  });

  it('logged none of it at ERROR and printed no stack trace', () => {
    const log = stripColours(service.output.join('').slice(logStart));
    expect(log).not.toMatch(/\bERROR\b/);
    expect(log).not.toMatch(/\n\s+at /);
  });
});
