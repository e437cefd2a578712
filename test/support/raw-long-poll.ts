import { type ClientRequest, request } from 'node:http';
import { type GatewayApp, tokenFor } from './gateway-app';

const RS = '\u001e';

/** Negotiates a connection token for `token`'s user. */
export async function negotiate(gw: GatewayApp, token: string): Promise<string> {
  const response = await fetch(`${gw.hubUrl}/negotiate?negotiateVersion=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { connectionToken: string }).connectionToken;
}

/** A long-polling client by hand: each call is one request, as the stock client makes them. */
export class RawLongPoll {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  static async open(gw: GatewayApp, user: string): Promise<RawLongPoll> {
    const token = tokenFor(user);
    const client = new RawLongPoll(`${gw.hubUrl}?id=${await negotiate(gw, token)}`, token);
    const first = await client.poll();
    expect(first).toEqual({ status: 200, body: '' });
    return client;
  }

  async poll(token = this.token): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.url}&_=${Date.now()}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.text() };
  }

  async post(body: string | Buffer, token = this.token): Promise<{ status: number; body: string }> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain;charset=UTF-8' },
      body,
    });
    return { status: response.status, body: await response.text() };
  }

  async handshake(): Promise<void> {
    expect((await this.post(JSON.stringify({ protocol: 'json', version: 1 }) + RS)).status).toBe(200);
    expect(await this.poll()).toEqual({ status: 200, body: '{}' + RS });
  }
}

/**
 * Opens a Server-Sent Events stream and never reads it (a client that stalls): what the gateway sends piles up in
 * the kernel's buffers, then in the gateway's response. Destroy the request to end it.
 */
export async function openUnreadEventStream(url: string, token: string): Promise<ClientRequest> {
  const stream = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  const opened = new Promise<void>((resolve) =>
    stream.on('response', (response) => {
      response.pause();
      resolve();
    }),
  );
  stream.on('error', () => undefined);
  stream.end();
  await opened;
  return stream;
}
