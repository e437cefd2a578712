import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';

/**
 * What hostile clients send: hub messages of the right shape with hostile values (deep, long, many), messages a
 * little off, all of them mutated (bit flips, cuts, repeats, wrong length prefixes, huge declared lengths), and
 * random bytes. Every frame prints as hex in fast-check's counterexamples, so a failure can be replayed byte for byte.
 */

export type ProtocolName = 'json' | 'messagepack';

const RS = 0x1e;
/** Frames printed in full up to this size; past it only their head (the seed replays them whole). */
const PRINTED_BYTES = 2048;

/** One frame (a WebSocket message, or a POST body) and how it is sent. */
export class HostileFrame {
  constructor(
    readonly bytes: Buffer,
    /** A binary WebSocket message / an `application/octet-stream` POST; text otherwise. */
    readonly binary: boolean,
    /** How it was made, for the report. */
    readonly origin: string,
  ) {}

  [fc.toStringMethod](): string {
    const shown = this.bytes.subarray(0, PRINTED_BYTES).toString('hex');
    const more = this.bytes.length > PRINTED_BYTES ? `... (${this.bytes.length} bytes)` : '';
    return `${this.binary ? 'binary' : 'text'} ${this.origin} <${shown}${more}>`;
  }
}

// --- values -------------------------------------------------------------------------------------------------------

const units = ['x', 'é', '💥', '\u0000', '\u001e', '"', '\\', '\ud800', '{', ']'];
/** Long strings cheaply: one unit repeated (a string generated character by character would be slow). */
const longString = fc
  .tuple(fc.constantFrom(...units), fc.integer({ min: 100, max: 600 }))
  .map(([unit, n]) => unit.repeat(n));
const shortString = fc.string({ unit: 'binary', maxLength: 12 });
const anyString = fc.oneof({ weight: 4, arbitrary: shortString }, { weight: 1, arbitrary: longString });

/** Arrays nested `depth` deep (`[[[...]]]`), as a value MessagePack's encoder can still write (it stops at 100). */
const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

const argument: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: anyString },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 90 }).map(nested) },
  { weight: 1, arbitrary: fc.constantFrom('watch', 'room', '', '__proto__', 'constructor') },
);

/** Arguments as an array: a few values, or very many. */
const argList: fc.Arbitrary<unknown[]> = fc.oneof(
  { weight: 5, arbitrary: fc.array(argument, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 1000 }).map((n) => new Array<number>(n).fill(0)) },
);
/** Arguments that may not be an array at all. */
const args: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: argList },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const methodName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('JoinGroup', 'LeaveGroup', 'joingroup') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('NoSuchMethod', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'then'),
  },
  { weight: 1, arbitrary: anyString },
);
const target = fc.oneof({ weight: 6, arbitrary: methodName }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });

const idString = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 1000 }).map(String) },
  { weight: 1, arbitrary: longString },
);
const invocationId = fc.oneof(
  { weight: 4, arbitrary: idString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

const sequenceId = fc.oneof(
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, -1, 1e308),
  shortString,
);
const streamIds = fc.array(shortString, { maxLength: 3 });

// --- hub messages -------------------------------------------------------------------------------------------------

/**
 * Hub messages of the right shape, in the JSON protocol's object form: the gateway serves them (answers, refuses
 * with a completion error, or ignores), with whatever values a client may put in them. No close message: it would
 * end the connection (it is among the odd ones).
 */
const servedJsonMessage: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { type: fc.constant(1), target: methodName, arguments: argList, invocationId: idString, streamIds },
      { requiredKeys: ['type', 'target', 'arguments'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(4), target: methodName, arguments: argList, invocationId: idString, streamIds },
      { requiredKeys: ['type', 'target', 'arguments', 'invocationId'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(2), invocationId: idString, item: argument }) },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(3), invocationId: idString, result: argument, error: anyString },
      { requiredKeys: ['type', 'invocationId'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(5), invocationId: idString }) },
  { weight: 2, arbitrary: fc.constant({ type: 6 }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(8, 9), sequenceId: fc.nat({ max: 20 }) }) },
);

/** Hub messages a little off: wrong field types, unknown types, no message at all. */
const oddJsonMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    { type: fc.constantFrom(1, 4), target, arguments: args, invocationId, streamIds: fc.jsonValue({ maxDepth: 1 }) },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    { type: fc.constantFrom(2, 3, 5), invocationId, item: argument, result: argument, error: argument },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    { type: fc.constant(7), error: argument, allowReconnect: fc.jsonValue({ maxDepth: 0 }) },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constantFrom(8, 9), sequenceId }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.oneof(fc.integer(), fc.double(), shortString), payload: argument }, { requiredKeys: ['type'] }),
  fc.record({ protocol: fc.constantFrom('json', 'messagepack', 'xml'), version: fc.integer({ min: -1, max: 3 }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Records whose text JSON.stringify would not make: nesting near the message bound, odd numbers, escapes. */
const rawJsonRecord = fc.oneof(
  fc
    .integer({ min: 100, max: 2000 })
    .map((d) => `{"type":1,"target":"JoinGroup","arguments":[${'['.repeat(d)}${']'.repeat(d)}],"invocationId":"d"}`),
  fc.constantFrom(
    '{"type":1e309}',
    '{"type":1.0,"target":"JoinGroup","arguments":["watch"]}',
    '{"type":-0}',
    '{"__proto__":{"type":1},"type":6}',
    '{"type":1,"target":"JoinGroup","arguments":{"length":1e9}}',
    '{"type":1,"target":"JoinGroup","arguments":["\\ud800"],"invocationId":"\\udfff"}',
    '{"type":8,"sequenceId":1e21}',
    '{"type":9,"sequenceId":-1}',
    '{"type":6}{"type":6}',
    '',
    ' ',
  ),
);

/** The same in the MessagePack protocol's array form. */
const headers = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(shortString, shortString, { maxKeys: 3 }) },
  // Headers nested in headers.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 60 }).map((d) => {
      let map: Record<string, unknown> = { h: 'bottom' };
      for (let i = 0; i < d; i++) map = { h: map };
      return map;
    }),
  },
);
const nilOr = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(null), arb);

const servedMessagePackMessage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constant(1), headers, nilOr(idString), methodName, argList) },
  { weight: 2, arbitrary: fc.tuple(fc.constant(1), headers, nilOr(idString), methodName, argList, streamIds) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(4), headers, idString, methodName, argList) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(2), headers, idString, argument) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(3), headers, idString, fc.constantFrom(1, 3), argument) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(3), headers, idString, fc.constant(2)) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(5), headers, idString) },
  { weight: 2, arbitrary: fc.constant([6]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(8, 9), fc.nat({ max: 20 })) },
);

const oddMessagePackMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(
    fc.constantFrom(1, 4),
    fc.jsonValue({ maxDepth: 2 }),
    nilOr(invocationId),
    target,
    args,
    fc.jsonValue({ maxDepth: 1 }),
  ),
  fc.tuple(fc.constantFrom(1, 4), headers, nilOr(invocationId), target),
  fc.tuple(fc.constantFrom(2, 3, 5), headers, invocationId, fc.integer({ min: -1, max: 4 }), argument),
  fc.tuple(fc.constant(7), nilOr(argument), fc.jsonValue({ maxDepth: 0 })),
  fc.tuple(fc.constantFrom(8, 9), sequenceId),
  fc.tuple(fc.oneof(fc.integer(), fc.double(), shortString), argument),
  fc.array(argument, { maxLength: 6 }),
  argument,
);

/** The VarInt length prefix of the MessagePack hub protocol (7 bits a byte, least significant first). */
function varInt(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

/** One MessagePack hub message with its length prefix. */
export function framedMessagePack(message: unknown): Buffer {
  const payload = Buffer.from(encode(message, { ignoreUndefined: true }));
  return Buffer.concat([varInt(payload.length), payload]);
}

/** A JSON record as the hub reads it: its text, then the record separator. */
export function jsonRecord(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message) + '\u001e', 'utf8');
}

const records = (messages: fc.Arbitrary<Buffer>) =>
  fc.array(messages, { minLength: 1, maxLength: 4 }).map((list) => Buffer.concat(list));

/** Frames of messages the gateway serves, framed as the protocol wants. */
const servedFrames: Record<ProtocolName, fc.Arbitrary<Buffer>> = {
  json: records(servedJsonMessage.map(jsonRecord)),
  messagepack: records(servedMessagePackMessage.map(framedMessagePack)),
};

/** Frames of any messages, well-formed or not (but framed). */
const anyFrames: Record<ProtocolName, fc.Arbitrary<Buffer>> = {
  json: records(
    fc.oneof(
      { weight: 3, arbitrary: servedJsonMessage.map(jsonRecord) },
      { weight: 2, arbitrary: oddJsonMessage.map(jsonRecord) },
      { weight: 1, arbitrary: rawJsonRecord.map((text) => Buffer.from(text + '\u001e', 'utf8')) },
    ),
  ),
  messagepack: records(
    fc.oneof(
      { weight: 3, arbitrary: servedMessagePackMessage.map(framedMessagePack) },
      { weight: 2, arbitrary: oddMessagePackMessage.map(framedMessagePack) },
    ),
  ),
};

/** The handshake, as the first record, with hub messages of the same frame after it or not. */
export function handshake(protocol: ProtocolName, version = 1): Buffer {
  return Buffer.from(JSON.stringify({ protocol, version }) + '\u001e', 'utf8');
}

// --- mutations ----------------------------------------------------------------------------------------------------

/**
 * Declared lengths far past what follows: a decoder that trusts them allocates by them. `dd 01 ff ff ff` is an
 * array of 33,554,431 elements, just under the length V8 still allocates as one block.
 */
const HUGE_HEADERS = [
  'dc ffff', // array 16
  'dd ffffffff', // array 32
  'dd 01ffffff',
  'dd 00ffffff',
  'de ffff', // map 16
  'df ffffffff', // map 32
  'df 01ffffff',
  'd9 ff', // str 8
  'da ffff', // str 16
  'db ffffffff', // str 32
  'c4 ff', // bin 8
  'c5 ffff', // bin 16
  'c6 ffffffff', // bin 32
  'c8 ffff01', // ext 16, type 1
  'c9 ffffffff01', // ext 32, type 1
].map((hex) => Buffer.from(hex.replace(/ /g, ''), 'hex'));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'prefix'; prefix: Uint8Array }
  | { kind: 'separator'; at: number }
  | { kind: 'huge'; at: number; header: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  // A wrong length prefix: too small, too large, past 2 GB, more than 5 bytes, continuation bits to the end.
  fc.record({
    kind: fc.constant('prefix' as const),
    prefix: fc.oneof(
      fc.nat().map((n) => new Uint8Array(varInt(n))),
      fc
        .uint8Array({ minLength: 1, maxLength: 7 })
        .map((bytes) => bytes.map((b, i) => (i < bytes.length - 1 ? b | 0x80 : b))),
      fc.uint8Array({ minLength: 1, maxLength: 7 }).map((bytes) => bytes.map((b) => b | 0x80)),
    ),
  }),
  fc.record({ kind: fc.constant('separator' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('huge' as const),
    at: fc.nat(),
    header: fc.nat({ max: HUGE_HEADERS.length - 1 }),
    times: fc.integer({ min: 1, max: 40 }),
  }),
);

function splice(bytes: Buffer, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + remove))]);
}

/** Leaves out the VarInt prefix at the start of `bytes`, if it has one. */
function withoutPrefix(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length && i < 5 && bytes[i] & 0x80) i++;
  return bytes.subarray(Math.min(bytes.length, i + 1));
}

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length === 0 ? 0 : 'at' in m ? m.at % (bytes.length + 1) : 0;
  switch (m.kind) {
    case 'flip':
      if (bytes.length === 0) return bytes;
      return splice(bytes, at % bytes.length, 1, Uint8Array.of(bytes[at % bytes.length] ^ (1 << m.bit)));
    case 'truncate':
      return bytes.subarray(0, at);
    case 'duplicate':
      return splice(bytes, at, 0, bytes.subarray(at, at + m.length));
    case 'insert':
      return splice(bytes, at, 0, m.bytes);
    case 'delete':
      return splice(bytes, at, m.length);
    case 'prefix':
      return Buffer.concat([m.prefix, withoutPrefix(bytes)]);
    case 'separator':
      // A record separator added, or the one at that place taken out.
      return bytes[at] === RS ? splice(bytes, at, 1) : splice(bytes, at, 0, Uint8Array.of(RS));
    case 'huge': {
      const header = HUGE_HEADERS[m.header];
      return splice(bytes, at, 0, Buffer.concat(new Array<Buffer>(m.times).fill(header)));
    }
  }
}

function mutated(base: fc.Arbitrary<Buffer>, origin: string): fc.Arbitrary<{ bytes: Buffer; origin: string }> {
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([bytes, mutations]) => ({
    bytes: mutations.reduce(mutate, bytes),
    origin: `${origin} mutated (${mutations.map((m) => m.kind).join(', ')})`,
  }));
}

// --- frames -------------------------------------------------------------------------------------------------------

/** Random bytes: short ones, and some near or past the message bound (cheap: a pattern, not byte by byte). */
function randomBytes(maxMessageBytes: number): fc.Arbitrary<{ bytes: Buffer; origin: string }> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ bytes: Buffer.from(b), origin: 'random' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: maxMessageBytes - 8, max: maxMessageBytes * 5 }),
          fc.uint8Array({ minLength: 1, maxLength: 16 }),
        )
        .map(([size, pattern]) => ({
          bytes: Buffer.alloc(size, pattern),
          origin: `random ${size} bytes (pattern ${Buffer.from(pattern).toString('hex')})`,
        })),
    },
  );
}

/**
 * Length prefixes that are right, with payloads of huge declared lengths only (the decoder's worst case): a mix of
 * headers, or one header repeated (`c8 01` then 40 times `dd 01 ff ff ff` is one of these).
 */
export const hugeLengthFrame: fc.Arbitrary<{ bytes: Buffer; origin: string }> = fc
  .tuple(
    fc.oneof(
      fc.array(fc.nat({ max: HUGE_HEADERS.length - 1 }), { minLength: 1, maxLength: 40 }),
      fc
        .tuple(fc.nat({ max: HUGE_HEADERS.length - 1 }), fc.integer({ min: 1, max: 40 }))
        .map(([pick, times]) => new Array<number>(times).fill(pick)),
    ),
    fc.constantFrom(Buffer.alloc(0), Buffer.from([0x91, 0x06]), Buffer.from([0xc0]), Buffer.from('95010080', 'hex')),
    fc.boolean(),
  )
  .map(([picks, tail, inInvocation]) => {
    const body = Buffer.concat([...picks.map((i) => HUGE_HEADERS[i]), tail]);
    // Either the payload itself, or in the headers place of an invocation `[1, <here>, ...]`.
    const payload = inInvocation ? Buffer.concat([Buffer.from([0x95, 0x01]), body]) : body;
    return { bytes: Buffer.concat([varInt(payload.length), payload]), origin: 'huge lengths' };
  });

/**
 * Frames the gateway serves: well-formed messages with any values (deep, long, many arguments; any method name),
 * in the protocol's framing. A client sending only these keeps its connection.
 */
export function servedFrame(protocol: ProtocolName): fc.Arbitrary<HostileFrame> {
  return servedFrames[protocol].map(
    (bytes) => new HostileFrame(bytes, protocol === 'messagepack', `served ${protocol}`),
  );
}

/** The frames a hostile client of `protocol` sends after its handshake. */
export function hostileFrame(protocol: ProtocolName, maxMessageBytes: number): fc.Arbitrary<HostileFrame> {
  const framed = anyFrames[protocol];
  const made = fc.oneof(
    { weight: 2, arbitrary: randomBytes(maxMessageBytes) },
    { weight: 2, arbitrary: framed.map((bytes) => ({ bytes, origin: `${protocol} messages` })) },
    { weight: 5, arbitrary: mutated(framed, protocol) },
    // The other protocol's frames on this one.
    { weight: 1, arbitrary: mutated(anyFrames[protocol === 'json' ? 'messagepack' : 'json'], 'other protocol') },
    { weight: protocol === 'messagepack' ? 2 : 0, arbitrary: hugeLengthFrame },
  );
  // MessagePack clients send binary messages and JSON ones text; hostile ones either.
  return fc
    .tuple(made, fc.integer({ min: 0, max: 3 }))
    .map(
      ([{ bytes, origin }, pick]) =>
        new HostileFrame(bytes, protocol === 'messagepack' ? pick !== 0 : pick === 0, origin),
    );
}

/** What a client sends before (or instead of) its handshake: mutated handshakes, with messages in the same frame. */
export function hostileHandshake(protocol: ProtocolName, maxMessageBytes: number): fc.Arbitrary<HostileFrame> {
  const framed = anyFrames[protocol];
  const handshakeAndMore = fc
    .tuple(fc.constantFrom<ProtocolName>('json', 'messagepack'), fc.integer({ min: 0, max: 3 }), fc.option(framed))
    .map(([name, version, rest]) => Buffer.concat([handshake(name, version), rest ?? Buffer.alloc(0)]));
  return fc
    .tuple(
      fc.oneof(
        { weight: 2, arbitrary: randomBytes(maxMessageBytes) },
        { weight: 2, arbitrary: handshakeAndMore.map((bytes) => ({ bytes, origin: 'handshake and messages' })) },
        { weight: 4, arbitrary: mutated(handshakeAndMore, 'handshake') },
        { weight: 1, arbitrary: mutated(framed, `${protocol} before the handshake`) },
      ),
      fc.boolean(),
    )
    .map(([{ bytes, origin }, binary]) => new HostileFrame(bytes, binary, origin));
}
