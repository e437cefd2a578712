import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, sleep } from './support';
import { negotiate, RawLongPoll } from '../support/raw-long-poll';

const RS = '\u001e';

async function transportRefusals(): Promise<number> {
  const metric = await register.getSingleMetric('realtime_hub_protocol_errors_total')!.get();
  return metric.values.find((v) => v.labels.reason === 'transport')?.value ?? 0;
}

describe('Server-Sent Events and long polling: the HTTP side, by hand', () => {
  let gw: GatewayApp;

  beforeAll(async () => {
    gw = await startGatewayApp({
      hub: { longPollTimeoutMs: 300, maxMessageBytes: 1024, keepAliveIntervalMs: 60_000 },
      slowClients: { softLimitBytes: 2048, hardLimitBytes: 8192 },
      envelopes: { maxArgsBytes: 4096 },
    });
  });

  afterAll(async () => {
    await gw.close();
  });

  it('returns what is buffered at the next poll, empty after the poll timeout, 204 once the connection ends', async () => {
    const client = await RawLongPoll.open(gw, 'poller');
    await client.handshake();
    expect(
      await client.post(JSON.stringify({ type: 1, target: 'JoinGroup', arguments: ['lp'], invocationId: '1' }) + RS),
    ).toEqual({ status: 200, body: '' });
    expect(await client.poll()).toEqual({ status: 200, body: '{"type":3,"invocationId":"1"}' + RS });
    // Nothing waiting: the poll is held for the poll timeout, then answers empty.
    const started = Date.now();
    expect(await client.poll()).toEqual({ status: 200, body: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // A poll held open is answered as soon as something is sent.
    const held = client.poll();
    await sleep(50);
    await postBridge(gw.bridgeUrl, [
      envelope({ kind: 'group', name: 'lp' }, ['a']),
      envelope({ kind: 'group', name: 'lp' }, ['b']),
    ]);
    const body = (await held).body;
    expect(
      body
        .split(RS)
        .filter(Boolean)
        .map((r) => JSON.parse(r) as unknown),
    ).toEqual([
      { type: 1, target: 'ReceiveMessage', arguments: ['a'] },
      { type: 1, target: 'ReceiveMessage', arguments: ['b'] },
    ]);
    // DELETE ends it: 202, then every poll is 204 and POSTs are 404.
    const deleted = await fetch(client.url, { method: 'DELETE', headers: { authorization: `Bearer ${client.token}` } });
    expect(deleted.status).toBe(202);
    expect((await client.poll()).status).toBe(404);
    expect((await client.post('{"type":6}' + RS)).status).toBe(404);
  });

  it('answers a held poll 204 when the server closes the connection, after its close message', async () => {
    const client = await RawLongPoll.open(gw, 'closing');
    await client.handshake();
    // A record the hub cannot serve closes the connection with the reason.
    expect((await client.post('{"type":1,,,' + RS)).status).toBe(200);
    const close = await client.poll();
    expect(JSON.parse(close.body.split(RS)[0])).toEqual({
      type: 7,
      error: 'Connection closed with an error: Invalid JSON in hub message',
    });
    expect((await client.poll()).status).toBe(204);
  });

  it('refuses what is not a transport request with a 4xx naming the problem, counted', async () => {
    const before = await transportRefusals();
    const client = await RawLongPoll.open(gw, 'owner');
    await client.handshake();
    const noId = await fetch(gw.hubUrl, { headers: { authorization: `Bearer ${client.token}` } });
    expect([noId.status, await noId.text()]).toEqual([400, 'the connection id (`id`) is missing']);
    const unknown = await fetch(`${gw.hubUrl}?id=nope`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}` },
      body: '{"type":6}' + RS,
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/sticky sessions/);
    const put = await fetch(client.url, { method: 'PUT', headers: { authorization: `Bearer ${client.token}` } });
    expect(put.status).toBe(405);
    // Another user's token cannot read or write this connection; no token at all is a 401.
    expect((await client.poll(tokenFor('mallory'))).status).toBe(403);
    expect((await client.post('{"type":6}' + RS, tokenFor('mallory'))).status).toBe(403);
    expect((await fetch(client.url)).status).toBe(401);
    // Far past the message bound the POST itself is refused; the connection is not touched.
    expect((await client.post('x'.repeat(1024 * 4 + 1))).status).toBe(413);
    // Five refusals; the missing token is an authentication failure, counted as such.
    expect(await transportRefusals()).toBe(before + 5);
    expect(
      (
        await client.post(
          JSON.stringify({ type: 1, target: 'JoinGroup', arguments: ['still'], invocationId: '2' }) + RS,
        )
      ).status,
    ).toBe(200);
    expect((await client.poll()).body).toBe('{"type":3,"invocationId":"2"}' + RS);
  });

  it('closes a long-polling client that stops polling once its buffer passes the hard bound', async () => {
    const client = await RawLongPoll.open(gw, 'sleeper');
    await client.handshake();
    await client.post(JSON.stringify({ type: 1, target: 'JoinGroup', arguments: ['flood'], invocationId: '1' }) + RS);
    await client.poll();
    const big = 'y'.repeat(900);
    for (let i = 0; i < 12; i++) await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'flood' }, [big])]);
    await eventually(async () => {
      const metric = await register.getSingleMetric('realtime_slow_client_disconnects_total')!.get();
      expect(metric.values[0]?.value ?? 0).toBeGreaterThanOrEqual(1);
    });
    // What was waiting is dropped with the connection at once; the next poll finds no connection (the stock client
    // closes with that error, and reconnects when it is configured to).
    expect((await client.poll()).status).toBe(404);
  });

  it('streams Server-Sent Events as data lines and ends the stream when the connection closes', async () => {
    const token = tokenFor('sse');
    const url = `${gw.hubUrl}?id=${await negotiate(gw, token)}`;
    const noAuth = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(noAuth.status).toBe(401);
    const stream = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const second = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(second.status).toBe(409);
    const post = (body: string) =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body }).then((r) => r.status);
    expect(await post(JSON.stringify({ protocol: 'json', version: 1 }) + RS)).toBe(200);
    expect(await post(JSON.stringify({ type: 7 }) + RS)).toBe(200);
    const text = await stream.text();
    // The client said goodbye: the server's close message (reconnectable, as on WebSockets), then the stream ends.
    expect(text).toBe(`data: {}${RS}\r\n\r\ndata: {"type":7,"allowReconnect":true}${RS}\r\n\r\n`);
  });
});
