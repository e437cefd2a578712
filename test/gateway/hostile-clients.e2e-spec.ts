import { encode } from '@msgpack/msgpack';
import { type GatewayApp, RecordingLogger, startGatewayApp, tokenFor } from '../support/gateway-app';
import { negotiate, openUnreadEventStream, RawLongPoll } from '../support/raw-long-poll';
import { RawHubClient } from '../support/raw-hub-client';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { metric, sleep, stillServed } from './support';

const RS = '\u001e';
const MB = 1024 * 1024;
/** What a Blob call answers: every reply costs the gateway this much to hold. */
const BLOB = 'x'.repeat(50_000);

/** A message with its VarInt length prefix, as MessagePack hub frames carry it. */
function lengthPrefixed(payload: Buffer): Buffer {
  const prefix: number[] = [];
  let length = payload.length;
  do {
    prefix.push((length & 0x7f) | (length > 0x7f ? 0x80 : 0));
    length >>>= 7;
  } while (length > 0);
  return Buffer.concat([Buffer.from(prefix), payload]);
}

/** The 202-byte frame of the issue: length 200, then 40 array32 headers each declaring 33,554,431 elements. */
const ARRAY32_BOMB = lengthPrefixed(
  Buffer.concat(Array.from({ length: 40 }, () => Buffer.from([0xdd, 1, 255, 255, 255]))),
);
/** The same with 3-byte array16 headers, up to the message bound: each alone is legal, together they owe 1.4 G values. */
const ARRAY16_BOMB = lengthPrefixed(Buffer.concat(Array.from({ length: 21_000 }, () => Buffer.from([0xdc, 255, 255]))));

/** Memory the gateway (this process) holds in JS objects and buffers. */
const heldMemory = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

/** The most memory seen above `base` while `work` runs, sampled every 20 ms. */
async function peakDuring(work: () => Promise<void>): Promise<number> {
  const base = heldMemory();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, heldMemory())), 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, heldMemory()) - base;
}

function invocations(count: number, first: number): string {
  let frame = '';
  for (let i = 0; i < count; i++)
    frame += JSON.stringify({ type: 1, invocationId: String(first + i), target: 'Blob', arguments: [] }) + RS;
  return frame;
}

describe('hostile clients with a valid token: no frame kills the gateway, no reply escapes the bounds', () => {
  let gw: GatewayApp;
  let logs: RecordingLogger;
  let bystander: TestClient;

  beforeAll(async () => {
    logs = new RecordingLogger();
    gw = await startGatewayApp(
      {
        hub: {
          longPollTimeoutMs: 1000,
          methods: { Blob: () => BLOB },
          // A slow membership lookup, as a database would be: the window the groups cap used to race.
          authorizeGroup: async () => {
            await sleep(30);
            return true;
          },
        },
        // An operator who raised the rate: the bounds must hold without the rate limit's help.
        limits: { invocationsPerSecond: 100_000, invocationBurst: 100_000, maxGroupsPerConnection: 10 },
      },
      undefined,
      { logger: logs },
    );
    bystander = await new TestClient(gw.hubUrl, tokenFor('bystander')).start();
    await bystander.connection.invoke('JoinGroup', 'watch');
  });

  afterAll(async () => {
    await bystander.stop();
    await gw.close();
  });

  afterEach(() => {
    // A client's mistake is a debug line and a counter, never an ERROR (with a stack) in the operator's log.
    expect(logs.at('error', 'fatal')).toEqual([]);
  });

  async function messagePackClient(): Promise<RawHubClient> {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('mallory'), { handshake: false });
    raw.send(JSON.stringify({ protocol: 'messagepack', version: 1 }) + RS);
    await raw.waitForFrames(1);
    return raw;
  }

  it('refuses the 202-byte MessagePack frame (and its array16 form) before allocating, with the reason', async () => {
    const errors = await metric('realtime_hub_protocol_errors_total', { reason: 'bad_messagepack' });
    const grown = await peakDuring(async () => {
      for (const bomb of [ARRAY32_BOMB, ARRAY16_BOMB]) {
        const raw = await messagePackClient();
        raw.send(bomb);
        await raw.waitForClose();
        // The close message (MessagePack [7, error, false]) names the problem.
        expect(raw.rawFrames.at(-1)!.toString('latin1')).toMatch(/values announced/);
      }
    });
    expect(grown).toBeLessThan(64 * MB); // each header alone used to cost 259 MB (array32) or 512 KB (array16)
    expect(await metric('realtime_hub_protocol_errors_total', { reason: 'bad_messagepack' })).toBe(errors + 2);
    await stillServed(bystander, gw.bridgeUrl);
  });

  it('refuses the same frame in a long-polling binary POST', async () => {
    const client = await RawLongPoll.open(gw, 'mallory');
    expect((await client.post(JSON.stringify({ protocol: 'messagepack', version: 1 }) + RS)).status).toBe(200);
    expect((await client.poll()).status).toBe(200);
    const response = await fetch(client.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/octet-stream' },
      body: ARRAY32_BOMB,
    });
    expect(response.status).toBeLessThan(500);
    await response.text();
    // Its next poll gets the close message naming the problem (or the connection is already over).
    const poll = await client.poll();
    if (poll.status === 200) expect(poll.body).toMatch(/values announced/);
    else expect([204, 404]).toContain(poll.status);
    await stillServed(bystander, gw.bridgeUrl);
  });

  it('answers a MessagePack call with 65,000 arguments with an error, without a stack overflow or an ERROR line', async () => {
    const raw = await messagePackClient();
    const args = Buffer.concat([Buffer.from([0xdc, 0xfd, 0xe8]), Buffer.alloc(65_000, 0xc0)]);
    const head = Buffer.from(encode([1, {}, '1', 'JoinGroup']));
    // encode() wrote a 4-element array: make it 5 and append the arguments array.
    head[0] = 0x95;
    raw.send(lengthPrefixed(Buffer.concat([head, args])));
    await eventually(() => expect(raw.rawFrames.length).toBeGreaterThan(1));
    expect(raw.rawFrames[1].toString('latin1')).toMatch(/Too many arguments: at most 32/);
    expect(raw.closeCode).toBeUndefined();
    raw.close();
  });

  it('answers arguments nested 30,000 deep with an error, and refuses invocation ids longer than 128', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('mallory'));
    raw.send(
      `{"type":1,"invocationId":"1","target":"JoinGroup","arguments":[${'['.repeat(30_000)}${']'.repeat(30_000)}]}${RS}`,
    );
    await eventually(() => expect(raw.records()).toContainEqual(expect.objectContaining({ invocationId: '1' })));
    expect(raw.records().find((r) => r.invocationId === '1')!.error).toMatch(/nested too deep/);
    raw.send(JSON.stringify({ type: 1, invocationId: 'i'.repeat(129), target: 'Blob', arguments: [] }) + RS);
    await raw.waitForClose();
    expect(raw.records().at(-1)).toEqual({
      type: 7,
      error: 'Connection closed with an error: invocationId must be a string of at most 128 characters',
    });
  });

  it('holds the groups cap when a frame of joins races the membership lookup', async () => {
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('mallory'));
    let frame = '';
    for (let i = 0; i < 9; i++)
      frame += JSON.stringify({ type: 1, invocationId: `a${i}`, target: 'JoinGroup', arguments: [`g${i}`] }) + RS;
    raw.send(frame);
    await eventually(() => expect(raw.records().filter((r) => r.type === 3)).toHaveLength(9));
    frame = '';
    for (let i = 0; i < 40; i++)
      frame += JSON.stringify({ type: 1, invocationId: `b${i}`, target: 'JoinGroup', arguments: [`h${i}`] }) + RS;
    raw.send(frame);
    await eventually(() => expect(raw.records().filter((r) => r.type === 3)).toHaveLength(49));
    const second = raw.records().filter((r) => r.type === 3 && String(r.invocationId).startsWith('b'));
    expect(second.filter((r) => r.error === undefined)).toHaveLength(1);
    expect(second.filter((r) => String(r.error).includes('at most 10 groups'))).toHaveLength(39);
    raw.close();
  });

  it('closes a WebSocket that does not read the replies to its own calls, within the hard bound', async () => {
    const disconnects = await metric('realtime_slow_client_disconnects_total');
    const raw = await RawHubClient.connect(gw.hubUrl, tokenFor('mallory'));
    raw.stopReading();
    const grown = await peakDuring(async () => {
      // 2,000 calls: 100 MB of replies asked for, 50 calls per frame.
      for (let i = 0; i < 40 && raw.socket.readyState === raw.socket.OPEN; i++) {
        raw.send(invocations(50, i * 50));
        await sleep(5);
      }
      await eventually(async () =>
        expect(await metric('realtime_slow_client_disconnects_total')).toBe(disconnects + 1),
      );
    });
    // The kernel's socket buffers take several MB first; the gateway holds at most its 1 MiB bound and one reply.
    expect(grown).toBeLessThan(48 * MB);
    raw.close();
    await stillServed(bystander, gw.bridgeUrl);
  });

  it('drops a long-polling connection that never polls for the replies to its calls', async () => {
    const disconnects = await metric('realtime_slow_client_disconnects_total');
    const client = await RawLongPoll.open(gw, 'mallory');
    await client.handshake();
    const grown = await peakDuring(async () => {
      for (let i = 0; i < 100; i++) {
        const { status } = await client.post(invocations(20, i * 20));
        if (status !== 200) break;
      }
      await eventually(async () =>
        expect(await metric('realtime_slow_client_disconnects_total')).toBe(disconnects + 1),
      );
    });
    expect(grown).toBeLessThan(48 * MB);
    expect([204, 404]).toContain((await client.poll()).status);
  });

  it('drops a Server-Sent Events connection that does not read its stream', async () => {
    const disconnects = await metric('realtime_slow_client_disconnects_total');
    const token = tokenFor('mallory');
    const url = `${gw.hubUrl}?id=${await negotiate(gw, token)}`;
    const stream = await openUnreadEventStream(url, token);
    const post = (body: string) =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body }).then((r) => r.status);
    expect(await post(JSON.stringify({ protocol: 'json', version: 1 }) + RS)).toBe(200);
    const grown = await peakDuring(async () => {
      for (let i = 0; i < 100; i++) if ((await post(invocations(20, i * 20))) !== 200) break;
      await eventually(async () =>
        expect(await metric('realtime_slow_client_disconnects_total')).toBe(disconnects + 1),
      );
    });
    expect(grown).toBeLessThan(48 * MB);
    stream.destroy();
    await stillServed(bystander, gw.bridgeUrl);
  });
});
