import { connect } from 'node:net';
import { Logger } from '@nestjs/common';
import { GATEWAY_METRIC } from '@realtime-streams/gateway';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';

const metricValue = async (name: string, labels: Record<string, string>) => {
  const metric = (await register.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return Number(sample?.value ?? 0);
};

/** `[[[...[0]...]]]`, `depth` arrays deep, as text (building it as a value would need the recursion it tests). */
const nestedJson = (depth: number) => '['.repeat(depth) + '0' + ']'.repeat(depth);

/** Sends raw bytes to the server, then ends or cuts the socket; resolves with what the server answered. */
function rawRequest(port: number, text: string, end: 'half-close' | 'destroy'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.once('connect', () => {
      socket.write(text);
      if (end === 'half-close') socket.end();
      else setTimeout(() => socket.destroy(), 50);
    });
  });
}

describe('envelope bounds at the stream consumer (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp;
  let alice: TestClient;
  const key = streamKey('realtime', 0);
  const entry = (args: string) =>
    JSON.stringify(envelope({ kind: 'group', name: 'room:1' }, [])).replace('"args":[]', `"args":${args}`);

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    gw = await startGatewayApp({ instanceId: 'bounded', redis: { url: redis.url, blockMs: 500 } });
    alice = await new TestClient(gw.hubUrl, tokenFor('alice')).start();
    await alice.connection.invoke('JoinGroup', 'room:1');
  });

  afterAll(async () => {
    await alice.stop();
    await gw.close();
    admin.disconnect();
    await redis.dispose();
    // The 1 MB reply left ioredis's parser (redis-parser) a 3 MB buffer pool that it shrinks by a tenth every 50 ms
    // on a timer of its own: let it finish, or Jest reports a timer still running at the end.
    await sleep(2000);
  });

  it('skips, acknowledges and counts a 1 MB entry, a 70 KB one and a deeply nested one; delivers those around them in order', async () => {
    const warned = jest.spyOn(Logger.prototype, 'warn');
    await admin.xadd(key, '*', 'e', entry('[1]'));
    await admin.xadd(key, '*', 'e', entry(JSON.stringify(['x'.repeat(1024 * 1024)]))); // refused unparsed, by its length
    await admin.xadd(key, '*', 'e', entry('[2]'));
    await admin.xadd(key, '*', 'e', entry(JSON.stringify(['é'.repeat(35 * 1024)]))); // 70 KiB of UTF-8 in 35 Ki chars
    await admin.xadd(key, '*', 'e', entry(nestedJson(20_000))); // short enough to be parsed, then refused for depth
    await admin.xadd(key, '*', 'e', entry('[3]'));
    await eventually(() => expect(alice.of('ReceiveMessage')).toEqual([[1], [2], [3]]));
    expect(
      await metricValue(GATEWAY_METRIC.invalidEnvelopes, { transport: 'redis-streams', reason: 'too_large' }),
    ).toBe(2);
    expect(await metricValue(GATEWAY_METRIC.invalidEnvelopes, { transport: 'redis-streams', reason: 'too_deep' })).toBe(
      1,
    );
    await eventually(async () => expect((await admin.xpending(key, 'gateway:bounded'))[0]).toBe(0));
    expect(alice.connection.state).toBe('Connected');
    // Logged at warn, naming the entry and the bound, never with the payload.
    const warnings = warned.mock.calls
      .map(([message]) => String(message))
      .filter((m) => m.startsWith('Skipping stream entry'));
    warned.mockRestore();
    expect(warnings).toEqual([
      expect.stringMatching(/: entry is \d+ characters, more than args of at most 65536 bytes .*; not parsed$/),
      expect.stringMatching(
        /: args are 71\d+ bytes, over the limit of 65536 bytes \(envelopes.maxArgsBytes, REALTIME_MAX_ARGS_BYTES\)$/,
      ),
      expect.stringMatching(/: args are nested deeper than 32 levels/),
    ]);
    expect(warnings.join('').length).toBeLessThan(1000);
  });
});

describe('envelope bounds at the HTTP bridge (default limits)', () => {
  let gw: GatewayApp;
  const members: TestClient[] = [];
  const room = { kind: 'group', name: 'room:big' };

  beforeAll(async () => {
    gw = await startGatewayApp();
    for (const user of ['alice', 'bob', 'carol']) {
      const client = await new TestClient(gw.hubUrl, tokenFor(user)).start();
      await client.connection.invoke('JoinGroup', 'room:big');
      members.push(client);
    }
  });

  afterAll(async () => {
    await Promise.all(members.map((c) => c.stop()));
    await gw.close();
  });

  it('refuses a 2 MB envelope with 400 naming it and the bound, disconnects nobody, and delivers the next one', async () => {
    const big = envelope(room, [{ blob: 'x'.repeat(2 * 1024 * 1024) }]);
    const answer = await postBridge(gw.bridgeUrl, [envelope(room, ['before']), big]);
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(/^envelope \[1\] args are 2097\d+ bytes, over the limit of 65536 bytes/);
    expect(String(answer.body.error)).toMatch(/REALTIME_MAX_ARGS_BYTES/);
    await sleep(100);
    for (const member of members) {
      expect(member.connection.state).toBe('Connected');
      expect(member.received).toEqual([]); // nothing of the refused batch
    }
    expect((await postBridge(gw.bridgeUrl, [envelope(room, ['after'])])).body).toEqual({ accepted: 1, written: 3 });
    await eventually(() => {
      for (const member of members) expect(member.of('ReceiveMessage')).toEqual([['after']]);
    });
    expect(await metricValue(GATEWAY_METRIC.invalidEnvelopes, { transport: 'http-bridge', reason: 'too_large' })).toBe(
      1,
    );
  });

  it('delivers an envelope just under the cap (60 KB) to idle clients without closing them', async () => {
    const before = members.map((m) => m.received.length);
    const payload = 'y'.repeat(60 * 1024);
    expect((await postBridge(gw.bridgeUrl, [envelope(room, [payload])])).body).toEqual({ accepted: 1, written: 3 });
    await eventually(() => members.forEach((m, i) => expect(m.received).toHaveLength(before[i] + 1)));
    for (const member of members) {
      expect(member.received.at(-1)!.args).toEqual([payload]);
      expect(member.connection.state).toBe('Connected');
    }
    expect(await metricValue(GATEWAY_METRIC.slowClientDisconnects, {})).toBe(0);
  });

  it('refuses args nested 100,000 deep with 400 naming the bound, delivering nothing', async () => {
    const before = members.map((m) => m.received.length);
    const deep = JSON.stringify([envelope(room, ['ok']), envelope(room, [])]).replace(
      '"args":[]',
      `"args":${nestedJson(100_000)}`,
    );
    const answer = await postBridge(gw.bridgeUrl, deep);
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(
      /^envelope \[1\] args are nested deeper than 32 levels .*REALTIME_MAX_ARGS_DEPTH/,
    );
    await sleep(50);
    members.forEach((m, i) => expect(m.received).toHaveLength(before[i]));
    expect(await metricValue(GATEWAY_METRIC.invalidEnvelopes, { transport: 'http-bridge', reason: 'too_deep' })).toBe(
      1,
    );
    // 32 levels (the args array is the first) pass.
    const atBound = JSON.stringify([envelope(room, [])]).replace('"args":[]', `"args":${nestedJson(32)}`);
    expect((await postBridge(gw.bridgeUrl, atBound)).status).toBe(200);
  });

  it.each([
    ['a batch whose items are not objects', '[1, "two", null]', /^envelope \[0\] \(envelope\) must be object/],
    ['a batch nested 100,000 deep', nestedJson(100_000), /^envelope \[0\] \(envelope\) must be object/],
    ['an empty body', '', /body is not JSON/],
  ])('answers %s with 400 naming the problem', async (_name, body, error) => {
    const answer = await postBridge(gw.bridgeUrl, body);
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(error);
  });

  it('answers a body cut short by the client with 400 while it can still write, and never logs it as an error', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error');
    const port = Number(new URL(gw.baseUrl).port);
    const head =
      `POST /internal/realtime/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-bridge-secret\r\n` +
      `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"v":1`;
    // Node's parser answers the body cut short by a half-close; the handler must not add a 500 or an error log.
    expect(await rawRequest(port, head, 'half-close')).toMatch(/^HTTP\/1.1 400 /);
    await rawRequest(port, head, 'destroy');
    await sleep(50);
    expect(logged).not.toHaveBeenCalled();
    logged.mockRestore();
  });

  it('survives request targets that are not URLs (answered by the framework, never a crash)', async () => {
    const port = Number(new URL(gw.baseUrl).port);
    for (const target of ['//[', 'http://[', 'http://x:99999/']) {
      const answer = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        'half-close',
      );
      expect(answer).toMatch(/^HTTP\/1.1 [45]\d\d /);
      expect(answer).not.toMatch(/^HTTP\/1.1 500 /);
    }
    const upgrade = await rawRequest(
      port,
      'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      'half-close',
    );
    expect(upgrade).toMatch(/^HTTP\/1.1 4\d\d /);
    expect((await postBridge(gw.bridgeUrl, [])).status).toBe(200);
  });
});

describe('a small slow-client hard bound (100 KiB) with an envelope cap under it (96 KiB)', () => {
  let gw: GatewayApp;

  beforeAll(async () => {
    gw = await startGatewayApp({
      slowClients: { softLimitBytes: 32 * 1024, hardLimitBytes: 100 * 1024 },
      envelopes: { maxArgsBytes: 96 * 1024 },
    });
  });

  afterAll(() => gw.close());

  it('sends 90 KB envelopes to an idle client, back to back, without closing it', async () => {
    const client = await new TestClient(gw.hubUrl, tokenFor('dave')).start();
    const payload = 'z'.repeat(90 * 1024);
    const batch = [
      envelope({ kind: 'user', id: 'dave' }, [payload, 1]),
      envelope({ kind: 'user', id: 'dave' }, [payload, 2]),
    ];
    expect((await postBridge(gw.bridgeUrl, batch)).body).toEqual({ accepted: 2, written: 2 });
    await eventually(() => expect(client.of('ReceiveMessage').map((args) => args[1])).toEqual([1, 2]));
    await sleep(50);
    expect(client.connection.state).toBe('Connected');
    expect(await metricValue(GATEWAY_METRIC.slowClientDisconnects, {})).toBe(0);
    await client.stop();
  });
});
