import { ConnectionRegistry } from '@realtime-streams/gateway/testing';
import WebSocket from 'ws';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RawHubClient } from '../support/raw-hub-client';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, stillServed, sleep } from './support';

const RS = '\u001e';

describe('hub protocol rules and bad clients (raw WebSocket clients next to a stock one)', () => {
  let gw: GatewayApp;
  let bystander: TestClient;

  beforeAll(async () => {
    gw = await startGatewayApp({
      hub: { keepAliveIntervalMs: 300, clientTimeoutMs: 1500, handshakeTimeoutMs: 500, maxMessageBytes: 4096 },
    });
    // The client timeout is short here (1.5 s), so the stock client pings more often than its default 15 s.
    bystander = await new TestClient(gw.hubUrl, tokenFor('bystander'), { keepAliveMs: 200 }).start();
    await bystander.connection.invoke('JoinGroup', 'watch');
  });

  afterAll(async () => {
    await bystander.stop();
    await gw.close();
  });

  const bystanderStillServed = () => stillServed(bystander, gw.bridgeUrl);

  it('answers the handshake with {} and a record separator before anything else', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'));
    expect(raw.frames[0]).toBe('{}' + RS);
    raw.close();
  });

  it('accepts several records in one frame (handshake, ping and an invocation)', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'), { handshake: false });
    raw.send(
      JSON.stringify({ protocol: 'json', version: 1 }) +
        RS +
        JSON.stringify({ type: 6 }) +
        RS +
        JSON.stringify({ type: 1, target: 'JoinGroup', arguments: ['raw-room'], invocationId: '7' }) +
        RS,
    );
    await raw.waitForFrames(2);
    expect(raw.frames[0]).toBe('{}' + RS);
    expect(raw.records()).toContainEqual({ type: 3, invocationId: '7' });
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'raw-room' }, [{ x: 1 }])]);
    await eventually(() =>
      expect(raw.records()).toContainEqual({ type: 1, target: 'ReceiveMessage', arguments: [{ x: 1 }] }),
    );
    // Broadcasts carry no invocationId: the client must not answer them.
    expect(raw.records().find((r) => r.type === 1)).not.toHaveProperty('invocationId');
    raw.close();
  });

  it('refuses a handshake for another protocol with an error, then closes', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'), { handshake: false });
    raw.send(JSON.stringify({ protocol: 'xml', version: 1 }) + RS);
    await raw.waitForClose();
    expect(raw.records()[0]).toEqual({ error: "The protocol 'xml' is not supported." });
  });

  it('closes a connection that never sends its handshake', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'), { handshake: false });
    await raw.waitForClose(3000);
    expect(raw.frames).toEqual([]);
  });

  it.each([
    ['a frame without record separator', JSON.stringify({ type: 6 }), /missing record separator/],
    ['garbage JSON', '{"type":1,,,' + RS, /Invalid JSON/],
    ['a record that is not an object', '[1,2]' + RS, /must be a JSON object/],
    ['an unknown message type', JSON.stringify({ type: 42 }) + RS, /Unknown message type 42/],
    ['an invocation without target', JSON.stringify({ type: 1, arguments: [] }) + RS, /needs a string target/],
    [
      'an oversized message',
      JSON.stringify({ type: 1, target: 'x', arguments: ['y'.repeat(5000)] }) + RS,
      /over the limit of 4096/,
    ],
  ])('closes a client that sends %s, with the error, and nobody else', async (_name, frame, error) => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'));
    raw.send(frame);
    await raw.waitForClose();
    const close = raw.records().find((r) => r.type === 7);
    expect(close?.error).toMatch(error);
    await bystanderStillServed();
  });

  it('closes a client that sends a binary frame, and one far over the size limit (ws bound)', async () => {
    const binary = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'));
    binary.send(Buffer.from([1, 2, 3]));
    await binary.waitForClose();
    expect(binary.records().find((r) => r.type === 7)?.error).toMatch(/Binary messages are not supported/);

    const huge = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'));
    huge.send('x'.repeat(64 * 1024));
    await huge.waitForClose();
    expect(huge.closeCode).toBe(1009);
    await bystanderStillServed();
  });

  it('pings an idle connection and closes one that stays silent past the client timeout', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'));
    await eventually(() => expect(raw.records()).toContainEqual({ type: 6 }), 2000);
    await raw.waitForClose(4000);
    expect(raw.records().find((r) => r.type === 7)?.error).toMatch(/Server timeout elapsed/);
  });

  it('keeps a stock client that pings alive past the client timeout', async () => {
    const client = await new TestClient(gw.hubUrl, tokenFor('pinger'), { keepAliveMs: 200 }).start();
    await sleep(2500);
    expect(client.connection.state).toBe('Connected');
    await client.stop();
  });

  it('answers 404 for an unknown connection id and 409 for a second socket on the same id', async () => {
    const token = tokenFor('raw');
    const negotiate = await fetch(`${gw.hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await negotiate.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      negotiateVersion: 1,
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    });
    expect(body).not.toHaveProperty('ProtocolVersion');
    expect(body).not.toHaveProperty('useStatefulReconnect');
    expect(String(body.connectionToken)).toMatch(/^[A-Za-z0-9_-]+$/);
    const ws = (id: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${gw.hubUrl.replace('http', 'ws')}?id=${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        socket.on('open', () => resolve(101));
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      });
    expect(await ws('nope')).toBe(404);
    expect(await ws(String(body.connectionToken))).toBe(101);
    expect(await ws(String(body.connectionToken))).toBe(409);
  });

  it('answers CORS preflights and echoes allowed origins with credentials', async () => {
    const cors = await startGatewayApp({ hub: { corsOrigins: ['http://app.example'] } });
    try {
      const preflight = await fetch(`${cors.hubUrl}/negotiate`, {
        method: 'OPTIONS',
        headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-SignalR-User-Agent/);
      const denied = await fetch(`${cors.hubUrl}/negotiate?negotiateVersion=1`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', authorization: `Bearer ${tokenFor('x')}` },
      });
      expect(denied.status).toBe(403);
    } finally {
      await cors.close();
    }
  });

  it('leaves other HTTP routes to the application', async () => {
    const response = await fetch(`${gw.baseUrl}/not-a-realtime-route`);
    expect(response.status).toBe(404);
    expect(gw.app.get(ConnectionRegistry).size).toBeGreaterThanOrEqual(1);
  });
});
