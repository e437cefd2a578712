import { NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { encode } from '@msgpack/msgpack';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RawHubClient } from '../support/raw-hub-client';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge, stillServed } from './support';

const RS = '\u001e';
const stock = new MessagePackHubProtocol();

/** A MessagePack message with a correct one-byte length prefix. */
function framed(message: unknown): Buffer {
  const payload = Buffer.from(encode(message));
  if (payload.length > 127) throw new Error('test frames stay under 128 bytes');
  return Buffer.concat([Buffer.from([payload.length]), payload]);
}

/** What the stock protocol reads in the frames a raw client got after the handshake answer. */
function parsedByStock(raw: RawHubClient): Array<Record<string, unknown>> {
  return raw.rawFrames.slice(1).flatMap((frame) => {
    const bytes = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length);
    return stock.parseMessages(bytes as ArrayBuffer, NullLogger.instance) as unknown as Array<Record<string, unknown>>;
  });
}

async function protocolErrors(reason: string): Promise<number> {
  const metric = await register.getSingleMetric('realtime_hub_protocol_errors_total')!.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('MessagePack hub protocol: raw frames next to a stock client', () => {
  let gw: GatewayApp;
  let bystander: TestClient;

  beforeAll(async () => {
    gw = await startGatewayApp({ hub: { maxMessageBytes: 4096 } });
    bystander = await new TestClient(gw.hubUrl, tokenFor('bystander'), { protocol: 'messagepack' }).start();
    await bystander.connection.invoke('JoinGroup', 'watch');
  });

  afterAll(async () => {
    await bystander.stop();
    await gw.close();
  });

  const bystanderStillServed = () => stillServed(bystander, gw.bridgeUrl);

  async function messagePackClient(): Promise<RawHubClient> {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'), { handshake: false });
    raw.send(JSON.stringify({ protocol: 'messagepack', version: 1 }) + RS);
    await raw.waitForFrames(1);
    expect(raw.frames[0]).toBe('{}' + RS);
    return raw;
  }

  it('serves several messages in one binary frame: ping, join, invoke, stream; answers in MessagePack', async () => {
    const raw = await messagePackClient();
    raw.send(
      Buffer.concat([
        framed([6]),
        framed([1, {}, '1', 'JoinGroup', ['raw-room']]),
        framed([1, {}, '2', 'NoSuchMethod', []]),
        // A streaming invocation is answered with an error, as on JSON.
        framed([4, {}, '3', 'Counter', [10]]),
      ]),
    );
    await eventually(() => expect(parsedByStock(raw).filter((m) => m.type === 3)).toHaveLength(3));
    // Completions in any order: each method runs on its own.
    const completions = parsedByStock(raw).filter((m) => m.type === 3);
    completions.sort((a, b) => String(a.invocationId).localeCompare(String(b.invocationId)));
    expect(completions).toEqual([
      expect.objectContaining({ type: 3, invocationId: '1', result: undefined, error: undefined }),
      expect.objectContaining({ type: 3, invocationId: '2', error: "Method 'NoSuchMethod' does not exist." }),
      expect.objectContaining({ type: 3, invocationId: '3', error: 'Streaming hub methods are not supported.' }),
    ]);
    await postBridge(gw.bridgeUrl, [envelope({ kind: 'group', name: 'raw-room' }, [{ x: 1 }, 'two'])]);
    await eventually(() =>
      expect(parsedByStock(raw)).toContainEqual(
        expect.objectContaining({ type: 1, target: 'ReceiveMessage', arguments: [{ x: 1 }, 'two'] }),
      ),
    );
    // A broadcast carries no invocation id (nil on the wire): the client must not answer it.
    expect(parsedByStock(raw).find((m) => m.type === 1)).not.toHaveProperty('invocationId');
    raw.close();
  });

  it.each([
    [
      'a length prefix longer than 5 bytes',
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x91]),
      'incomplete',
      /2 GB/,
    ],
    [
      'a length past the end of the frame',
      Buffer.concat([Buffer.from([40]), Buffer.from(encode([6]))]),
      'incomplete',
      /40 bytes announced/,
    ],
    [
      'a message truncated inside its MessagePack',
      Buffer.from([3, 0x95, 0x01, 0x80]),
      'bad_messagepack',
      /Invalid MessagePack/,
    ],
    ['a map where the array should be', framed({ type: 1 }), 'bad_message', /must be a non-empty array/],
    ['an invocation with too few fields', framed([1, {}, '1']), 'bad_message', /invocation message needs 5 fields/],
    [
      'headers that are not a map',
      framed([1, 'headers', null, 'JoinGroup', []]),
      'bad_message',
      /headers must be a map/,
    ],
    ['a string as the message type', framed(['1', {}, null, 'JoinGroup', []]), 'bad_message', /numeric type/],
    [
      'an invocation whose arguments are no array',
      framed([1, {}, '9', 'JoinGroup', 'room']),
      'bad_message',
      /array of arguments/,
    ],
  ])('closes only the client that sends %s, with the reason, counted', async (_name, frame, reason, message) => {
    const before = await protocolErrors(reason);
    const raw = await messagePackClient();
    raw.send(frame);
    await raw.waitForClose();
    const [close] = parsedByStock(raw);
    expect(close).toMatchObject({ type: 7, allowReconnect: false });
    expect(String(close.error)).toMatch(message);
    expect(await protocolErrors(reason)).toBe(before + 1);
    await bystanderStillServed();
  });

  it('refuses MessagePack over Server-Sent Events at the handshake (text only)', async () => {
    const token = tokenFor('sse-msgpack');
    const negotiate = await fetch(`${gw.hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const { connectionToken } = (await negotiate.json()) as { connectionToken: string };
    const url = `${gw.hubUrl}?id=${connectionToken}`;
    const controller = new AbortController();
    const stream = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const post = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ protocol: 'messagepack', version: 1 }) + RS,
    });
    expect(post.status).toBe(200);
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    expect(text).toContain("The 'messagepack' protocol needs a transport that carries binary data");
    controller.abort();
  });
});
