import { type HubMessage as StockMessage, MessageType, NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { HubProtocolError } from '../hub-protocol';
import { JSON_HUB_PROTOCOL } from './json-hub-protocol';
import { MESSAGEPACK_HUB_PROTOCOL as codec } from './messagepack-hub-protocol';

// The stock client's protocol is the judge: what the hub writes must read as the client expects, and what the
// client writes must read as the hub expects.
const stock = new MessagePackHubProtocol();
const read = (frame: Buffer) =>
  stock.parseMessages(
    frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length) as ArrayBuffer,
    NullLogger.instance,
  );
const written = (message: StockMessage) => Buffer.from(stock.writeMessage(message));

describe('MessagePack hub protocol', () => {
  it('writes invocations, completions, ping, close, ack and sequence as the stock client reads them', () => {
    const frames = Buffer.concat([
      codec.invocation('ReceiveMessage', [{ text: 'héllo', n: 1.5, list: [null, true] }]),
      codec.completion('1', { result: { ok: 1 } }),
      codec.completion('2', { result: undefined }),
      codec.completion('3', { error: 'nope' }),
      codec.ping,
      codec.close('bye', true),
      codec.ack(7),
      codec.sequence(8),
    ]);
    const messages = read(frames);
    expect(messages).toEqual([
      {
        type: 1,
        target: 'ReceiveMessage',
        arguments: [{ text: 'héllo', n: 1.5, list: [null, true] }],
        headers: {},
        streamIds: [],
      },
      expect.objectContaining({ type: 3, invocationId: '1', result: { ok: 1 }, error: undefined }),
      expect.objectContaining({ type: 3, invocationId: '2', result: undefined, error: undefined }),
      expect.objectContaining({ type: 3, invocationId: '3', error: 'nope' }),
      { type: 6 },
      { type: 7, error: 'bye', allowReconnect: true },
      { type: 8, sequenceId: 7 },
      { type: 9, sequenceId: 8 },
    ]);
    expect([...codec.ping]).toEqual([0x02, 0x91, 0x06]);
  });

  it('drops undefined properties as JSON does, so both protocols carry the same arguments', () => {
    const [message] = read(codec.invocation('M', [{ a: 1, gone: undefined }]));
    expect(message).toMatchObject({ arguments: [{ a: 1 }] });
  });

  it('reads what the stock client writes, several messages per frame', () => {
    const frame = Buffer.concat([
      written({
        type: MessageType.Invocation,
        target: 'JoinGroup',
        arguments: ['room'],
        invocationId: '5',
        streamIds: [],
      }),
      written({ type: MessageType.Invocation, target: 'Send', arguments: [1, 'x'], streamIds: [] }),
      written({ type: MessageType.Ping }),
      written({ type: MessageType.CancelInvocation, invocationId: '5' }),
      written({ type: MessageType.Close }),
      written({ type: MessageType.Ack, sequenceId: 3 }),
      written({ type: MessageType.Sequence, sequenceId: 4 }),
    ]);
    expect(codec.parse(frame, 64)).toEqual([
      { type: 1, invocationId: '5', target: 'JoinGroup', arguments: ['room'], streamIds: [] },
      { type: 1, invocationId: undefined, target: 'Send', arguments: [1, 'x'], streamIds: [] },
      { type: 6 },
      { type: 5, invocationId: '5' },
      { type: 7, error: undefined, allowReconnect: undefined },
      { type: 8, sequenceId: 3 },
      { type: 9, sequenceId: 4 },
    ]);
  });

  it('takes length prefixes of several bytes (messages over 127 bytes)', () => {
    const long = 'x'.repeat(20_000);
    const frame = codec.invocation('M', [long]);
    expect(frame[0] & 0x80).toBe(0x80);
    expect(read(frame)).toEqual([expect.objectContaining({ arguments: [long] })]);
    const fromClient = written({ type: MessageType.Invocation, target: 'Send', arguments: [long], streamIds: [] });
    expect(codec.parse(fromClient, 64)).toEqual([expect.objectContaining({ arguments: [long] })]);
  });

  it.each([
    ['an empty message', Buffer.from([0]), 'bad_message'],
    ['a cut length prefix', Buffer.from([0x80]), 'incomplete'],
    ['a prefix of six bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'incomplete'],
    ['a length past the end', Buffer.from([5, 0x91, 0x06]), 'incomplete'],
    ['bytes that are no MessagePack', Buffer.from([1, 0xc1]), 'bad_messagepack'],
    ['trailing bytes inside a message', Buffer.from([3, 0x91, 0x06, 0x06]), 'bad_messagepack'],
    ['an empty array', Buffer.from([1, 0x90]), 'bad_message'],
    ['a ping that is a number', Buffer.from([1, 0x06]), 'bad_message'],
  ])('refuses %s with a HubProtocolError', (_name, frame, reason) => {
    expect(() => codec.parse(frame, 64)).toThrow(HubProtocolError);
    try {
      codec.parse(frame, 64);
    } catch (error) {
      expect((error as HubProtocolError).reason).toBe(reason);
    }
  });

  it('keeps frames in session records as base64, and JSON as text', () => {
    const frame = codec.invocation('M', [1]);
    expect(codec.fromRecord(codec.toRecord(frame))).toEqual(frame);
    const json = JSON_HUB_PROTOCOL.invocation('M', [1]);
    expect(JSON_HUB_PROTOCOL.toRecord(json)).toBe('{"type":1,"target":"M","arguments":[1]}\u001e');
  });
});
