import { decode, encode } from '@msgpack/msgpack';
import { HubProtocolError } from '../hub-protocol';
import { checkMessagePackBounds } from './messagepack-bounds';

const bytes = (...parts: Array<number[] | Buffer>) => Buffer.concat(parts.map((part) => Buffer.from(part)));
const repeat = (times: number, part: number[]) => bytes(...Array.from({ length: times }, () => part));

function refusal(message: Uint8Array, maxDepth = 64): HubProtocolError {
  try {
    checkMessagePackBounds(message, maxDepth);
  } catch (error) {
    expect(error).toBeInstanceOf(HubProtocolError);
    return error as HubProtocolError;
  }
  throw new Error('the message was accepted');
}

describe('checkMessagePackBounds', () => {
  it('accepts what the encoder writes, of every type, and the decoder reads it back', () => {
    const values: unknown[] = [
      [1, {}, '0', 'JoinGroup', ['room:1']],
      [1, { h: 'v' }, null, 'Send', [true, false, null, -1, 127, 128, -33, 70_000, 2 ** 40, -(2 ** 40), 1.5]],
      ['x'.repeat(31), 'y'.repeat(32), 'z'.repeat(300), 'w'.repeat(70_000)],
      [new Uint8Array(3), new Uint8Array(300), new Uint8Array(70_000)],
      [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))],
      [Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 70_000 }, () => 0)],
      [new Date(1_700_000_000_000), new Date(1_700_000_000_123)],
      [],
      {},
      7,
    ];
    for (const value of values) {
      const message = encode(value);
      expect(() => checkMessagePackBounds(message, 64)).not.toThrow();
      expect(decode(message)).toEqual(value);
    }
  });

  it('refuses the frame that killed the gateway: array32 headers declaring 33 million elements each', () => {
    // The 202-byte frame (without its length prefix): 40 headers `dd 01 ff ff ff`.
    const started = Date.now();
    expect(refusal(repeat(40, [0xdd, 0x01, 0xff, 0xff, 0xff])).message).toMatch(
      /33554431 values announced, 195 bytes present/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses array16 and map16 headers, nested, that together declare more than what follows', () => {
    // Each header alone fits a 64 KiB message; nested, they owe far more values than there are bytes.
    const nested = repeat(20_000, [0xdc, 0x00, 0x02]);
    expect(refusal(nested).reason).toBe('bad_messagepack');
    expect(refusal(bytes([0xde, 0xff, 0xff], Buffer.alloc(1000))).message).toMatch(/131070 values announced/);
    expect(refusal(bytes([0x9f], Buffer.alloc(10))).message).toMatch(/15 values announced, 10 bytes/);
  });

  it('refuses strings, binaries and extensions longer than what follows', () => {
    for (const head of [
      [0xd9, 0xff],
      [0xda, 0xff, 0xff],
      [0xdb, 0xff, 0xff, 0xff, 0xff],
      [0xc4, 0xff],
      [0xc5, 0xff, 0xff],
      [0xc6, 0xff, 0xff, 0xff, 0xff],
      [0xc7, 0xff, 0x01],
      [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
    ]) {
      expect(refusal(bytes(head, Buffer.alloc(8))).message).toMatch(/bytes announced, \d+ present/);
    }
  });

  it('refuses values cut short, the unused byte 0xc1 and bytes after the message', () => {
    expect(refusal(bytes([0xcd, 0x01])).reason).toBe('incomplete');
    expect(refusal(bytes([0xdc, 0x00])).reason).toBe('incomplete');
    expect(refusal(bytes([0x92, 0x01])).message).toMatch(/2 values announced, 1 bytes present/);
    expect(refusal(bytes([0x91, 0xc1])).message).toMatch(/0xc1/);
    expect(refusal(bytes([0x91, 0x01, 0x02])).message).toMatch(/bytes after the message/);
    expect(refusal(bytes([])).reason).toBe('incomplete');
  });

  it('bounds nesting: the message is level 1', () => {
    const nested = (levels: number) => bytes(repeat(levels - 1, [0x91]), [0x90]);
    expect(() => checkMessagePackBounds(nested(5), 5)).not.toThrow();
    expect(refusal(nested(6), 5).message).toMatch(/deeper than 5 levels/);
    // A hundred thousand levels: one pass, no recursion, refused at the bound.
    expect(refusal(nested(100_000), 64).message).toMatch(/deeper than 64 levels/);
  });
});
