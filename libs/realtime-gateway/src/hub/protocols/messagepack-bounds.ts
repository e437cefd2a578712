import { HubProtocolError } from '../hub-protocol';

/**
 * Checks one MessagePack message against the bytes that actually arrived, before a decoder sees it. A decoder trusts
 * declared lengths: @msgpack/msgpack preallocates an array of the declared size, so `dd 01 ff ff ff` (an array of
 * 33 million elements) costs 259 MB for five bytes, and forty of them kill the process. Here every value costs at
 * least one byte, so a container may declare no more elements than there are bytes left after it, counting what
 * the enclosing containers still owe; strings, binaries and extensions must fit in what is left; nesting is
 * bounded. What passes decodes to at most one value per byte of input.
 *
 * One pass, no recursion, nothing allocated per value but one stack slot per open container.
 *
 * @throws HubProtocolError (`bad_messagepack`) naming the first thing wrong.
 */
export function checkMessagePackBounds(bytes: Uint8Array, maxDepth: number): void {
  const end = bytes.length;
  // Values still to read in each open container, innermost last.
  const open: number[] = [];
  // Values still to read in all of them together (plus the message itself, at first).
  let owed = 1;
  let pos = 0;

  /** A big-endian length field of `size` bytes at `pos`, which must be there. */
  const lengthField = (size: 1 | 2 | 4): number => {
    if (pos + size > end) throw cut();
    const value = size === 1 ? bytes[pos] : size === 2 ? (bytes[pos] << 8) | bytes[pos + 1] : readUint32(bytes, pos);
    pos += size;
    return value;
  };

  while (owed > 0) {
    if (pos >= end) throw cut();
    const head = bytes[pos++];
    owed--;
    // Containers whose count reaches 0 stay open until this value is read: they are its ancestors.
    if (open.length > 0) open[open.length - 1]--;
    let container = false;
    let children = 0;
    let skip = 0;
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) {
      // fixint, nil, false, true: the head byte is the whole value.
    } else if (head <= 0x9f) {
      container = true;
      children = head <= 0x8f ? (head & 0x0f) * 2 : head & 0x0f;
    } else if (head <= 0xbf) skip = head & 0x1f;
    else {
      switch (head) {
        case 0xc4: // bin 8, 16, 32
        case 0xd9: // str 8, 16, 32
          skip = lengthField(1);
          break;
        case 0xc5:
        case 0xda:
          skip = lengthField(2);
          break;
        case 0xc6:
        case 0xdb:
          skip = lengthField(4);
          break;
        case 0xc7: // ext 8, 16, 32: the length, then a type byte
          skip = lengthField(1) + 1;
          break;
        case 0xc8:
          skip = lengthField(2) + 1;
          break;
        case 0xc9:
          skip = lengthField(4) + 1;
          break;
        case 0xdc: // array 16, 32
          container = true;
          children = lengthField(2);
          break;
        case 0xdd:
          container = true;
          children = lengthField(4);
          break;
        case 0xde: // map 16, 32: a key and a value per entry
          container = true;
          children = lengthField(2) * 2;
          break;
        case 0xdf:
          container = true;
          children = lengthField(4) * 2;
          break;
        default: {
          const size = FIXED_SIZES[head];
          if (size === undefined) throw new HubProtocolError('bad_messagepack', 'Invalid MessagePack: byte 0xc1');
          if (size > end - pos) throw cut();
          skip = size;
        }
      }
    }
    if (skip > end - pos) {
      throw new HubProtocolError(
        'bad_messagepack',
        `Invalid MessagePack: a value of ${skip} bytes announced, ${end - pos} present`,
      );
    }
    pos += skip;
    if (container) {
      if (open.length >= maxDepth)
        throw new HubProtocolError('bad_messagepack', `MessagePack nested deeper than ${maxDepth} levels`);
      owed += children;
      if (owed > end - pos) {
        throw new HubProtocolError(
          'bad_messagepack',
          `Invalid MessagePack: ${owed} values announced, ${end - pos} bytes present`,
        );
      }
      if (children > 0) open.push(children);
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  }
  if (pos !== end) throw new HubProtocolError('bad_messagepack', 'Invalid MessagePack: bytes after the message');
}

/** Bytes after the head byte of the fixed-size types (numbers and fixext: type byte plus data). */
const FIXED_SIZES: Record<number, number> = {
  0xca: 4,
  0xcb: 8,
  0xcc: 1,
  0xcd: 2,
  0xce: 4,
  0xcf: 8,
  0xd0: 1,
  0xd1: 2,
  0xd2: 4,
  0xd3: 8,
  0xd4: 2,
  0xd5: 3,
  0xd6: 5,
  0xd7: 9,
  0xd8: 17,
};

function readUint32(bytes: Uint8Array, at: number): number {
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

function cut(): HubProtocolError {
  return new HubProtocolError('incomplete', 'Message is incomplete: the MessagePack value is cut short');
}
