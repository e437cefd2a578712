import { NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RawHubClient } from '../support/raw-hub-client';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge } from './support';

const RS = '\u001e';

async function joined(gw: GatewayApp, group: string, protocol: 'json' | 'messagepack'): Promise<RawHubClient> {
  const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('raw'), { handshake: false });
  raw.send(JSON.stringify({ protocol, version: 1 }) + RS);
  await raw.waitForFrames(1);
  if (protocol === 'json')
    raw.send(JSON.stringify({ type: 1, target: 'JoinGroup', arguments: [group], invocationId: '1' }) + RS);
  else
    raw.send(
      Buffer.from(
        new MessagePackHubProtocol().writeMessage({
          type: 1,
          target: 'JoinGroup',
          arguments: [group],
          invocationId: '1',
          streamIds: [],
        }),
      ),
    );
  await raw.waitForFrames(2);
  return raw;
}

const batchOf = (group: string, count: number) =>
  Array.from({ length: count }, (_, i) => envelope({ kind: 'group', name: group }, [{ n: i + 1 }]));

describe('several messages for one connection in one write', () => {
  let gw: GatewayApp;

  beforeAll(async () => {
    gw = await startGatewayApp();
  });

  afterAll(async () => {
    await gw.close();
  });

  it('writes a bridge batch to a JSON client as one frame of several records, in order', async () => {
    const raw = await joined(gw, 'batched', 'json');
    await postBridge(gw.bridgeUrl, batchOf('batched', 5));
    await raw.waitForFrames(3);
    const frame = raw.frames[2];
    expect(
      frame
        .split(RS)
        .filter(Boolean)
        .map((r) => JSON.parse(r) as unknown),
    ).toEqual([1, 2, 3, 4, 5].map((n) => ({ type: 1, target: 'ReceiveMessage', arguments: [{ n }] })));
    raw.close();
  });

  it('writes a batch to a MessagePack client as one binary frame of several messages', async () => {
    const raw = await joined(gw, 'batched-mp', 'messagepack');
    await postBridge(gw.bridgeUrl, batchOf('batched-mp', 4));
    await raw.waitForFrames(3);
    const bytes = raw.rawFrames[2];
    const messages = new MessagePackHubProtocol().parseMessages(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
      NullLogger.instance,
    );
    expect(messages.map((m) => (m as { arguments: unknown[] }).arguments)).toEqual([1, 2, 3, 4].map((n) => [{ n }]));
    raw.close();
  });

  it('still writes each message on its own with hub.batchWrites off', async () => {
    const unbatched = await startGatewayApp({ hub: { batchWrites: false } });
    try {
      const raw = await joined(unbatched, 'single', 'json');
      await postBridge(unbatched.bridgeUrl, batchOf('single', 3));
      await raw.waitForFrames(5);
      expect(raw.frames.slice(2).map((f) => f.split(RS).filter(Boolean).length)).toEqual([1, 1, 1]);
      raw.close();
    } finally {
      await unbatched.close();
    }
  });

  it('gives stock clients every message of a batch once, in order, next to stateful ones', async () => {
    const plain = await new TestClient(gw.hubUrl, tokenFor('plain')).start();
    const stateful = await new TestClient(gw.hubUrl, tokenFor('stateful'), { statefulReconnect: true }).start();
    const packed = await new TestClient(gw.hubUrl, tokenFor('packed'), { protocol: 'messagepack' }).start();
    const clients = [plain, stateful, packed];
    await Promise.all(clients.map((client) => client.connection.invoke('JoinGroup', 'stock')));
    for (let round = 0; round < 4; round++) await postBridge(gw.bridgeUrl, batchOf('stock', 25));
    const expected = Array.from({ length: 100 }, (_, i) => (i % 25) + 1);
    for (const client of clients) {
      await eventually(() => expect(client.of('ReceiveMessage')).toHaveLength(100));
      expect(client.of('ReceiveMessage').map((args) => (args[0] as { n: number }).n)).toEqual(expected);
    }
    await Promise.all(clients.map((client) => client.stop()));
  });
});
