import { Decoder, Encoder } from '@msgpack/msgpack';
import { type HubMessage, HubProtocolError, MessageType } from '../hub-protocol';
import { checkMessagePackBounds } from './messagepack-bounds';
import type { CompletionOutcome, HubProtocolCodec } from './hub-protocol-codec';

const ERROR_RESULT = 1;
const VOID_RESULT = 2;
const NON_VOID_RESULT = 3;
/** A VarInt length prefix has at most 5 bytes (7 bits each): messages are under 2 GB. */
const MAX_PREFIX_BYTES = 5;

// One of each, reused: encode and decode are synchronous. `ignoreUndefined` drops undefined properties, as JSON
// does, so both protocols carry the same arguments.
const encoder = new Encoder(undefined, undefined, undefined, undefined, false, false, true);
const decoder = new Decoder();

/** A message as a frame: its VarInt length, then its bytes (copied: the encoder reuses its buffer). */
function framed(message: unknown[]): Buffer {
  const payload = encoder.encode(message);
  let prefixLength = 1;
  while (payload.length >= 2 ** (7 * prefixLength)) prefixLength++;
  const frame = Buffer.allocUnsafe(prefixLength + payload.length);
  let length = payload.length;
  for (let i = 0; i < prefixLength; i++, length >>>= 7) frame[i] = (length & 0x7f) | (i < prefixLength - 1 ? 0x80 : 0);
  frame.set(payload, prefixLength);
  return frame;
}

/** Splits a frame into its messages' bytes; the stock client never splits a message across frames. */
function messagesOf(frame: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset < frame.length) {
    let length = 0;
    let shift = 0;
    let byte: number;
    let read = 0;
    do {
      if (offset + read >= frame.length)
        throw new HubProtocolError('incomplete', 'Message is incomplete: the length prefix is cut short');
      if (read === MAX_PREFIX_BYTES) throw new HubProtocolError('incomplete', 'Messages over 2 GB are not supported');
      byte = frame[offset + read++];
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    offset += read;
    if (length === 0) throw new HubProtocolError('bad_message', 'An empty MessagePack message');
    if (offset + length > frame.length) {
      throw new HubProtocolError(
        'incomplete',
        `Message is incomplete: ${length} bytes announced, ${frame.length - offset} present`,
      );
    }
    messages.push(frame.subarray(offset, offset + length));
    offset += length;
  }
  return messages;
}

function decoded(bytes: Buffer, maxDepth: number): unknown {
  // Before the decoder: it would allocate by the lengths the message declares (see messagepack-bounds.ts).
  checkMessagePackBounds(bytes, maxDepth);
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new HubProtocolError('bad_messagepack', `Invalid MessagePack: ${(error as Error).message}`);
  }
}

function needs(fields: unknown[], count: number, kind: string): void {
  if (fields.length < count) throw new HubProtocolError('bad_message', `A ${kind} message needs ${count} fields`);
}

function headersOf(fields: unknown[]): void {
  const headers = fields[1];
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new HubProtocolError('bad_message', 'Message headers must be a map');
}

/** The array a MessagePack message is, as the hub's object form (the fields the JSON protocol names). */
function hubMessageOf(decodedMessage: unknown): HubMessage {
  if (!Array.isArray(decodedMessage) || decodedMessage.length === 0)
    throw new HubProtocolError('bad_message', 'A MessagePack hub message must be a non-empty array');
  const fields = decodedMessage as unknown[];
  const type = fields[0];
  if (typeof type !== 'number' || !Number.isInteger(type))
    throw new HubProtocolError('bad_message', 'A hub message needs a numeric type');
  switch (type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      needs(fields, 5, 'invocation');
      headersOf(fields);
      return {
        type,
        invocationId: fields[2] ?? undefined,
        target: fields[3],
        arguments: fields[4],
        streamIds: fields[5] ?? undefined,
      };
    case MessageType.StreamItem:
    case MessageType.Completion:
    case MessageType.CancelInvocation:
      needs(fields, 3, 'stream or completion');
      headersOf(fields);
      return { type, invocationId: fields[2] };
    case MessageType.Ping:
      return { type };
    case MessageType.Close:
      return { type, error: fields[1] ?? undefined, allowReconnect: fields[2] ?? undefined };
    case MessageType.Ack:
    case MessageType.Sequence:
      needs(fields, 2, 'ack or sequence');
      return { type, sequenceId: fields[1] };
    default:
      return { type };
  }
}

/** The MessagePack hub protocol: binary frames, each message a VarInt length then a MessagePack array. */
export const MESSAGEPACK_HUB_PROTOCOL: HubProtocolCodec = {
  name: 'messagepack',
  binary: true,
  invocation: (method: string, args: readonly unknown[]): Buffer =>
    framed([MessageType.Invocation, {}, null, method, args]),
  completion: (invocationId: string, outcome: CompletionOutcome): Buffer =>
    'error' in outcome
      ? framed([MessageType.Completion, {}, invocationId, ERROR_RESULT, outcome.error])
      : outcome.result === undefined
        ? framed([MessageType.Completion, {}, invocationId, VOID_RESULT])
        : framed([MessageType.Completion, {}, invocationId, NON_VOID_RESULT, outcome.result]),
  ping: framed([MessageType.Ping]),
  close: (error: string | undefined, allowReconnect: boolean): Buffer =>
    framed([MessageType.Close, error ?? null, allowReconnect]),
  ack: (sequenceId: number): Buffer => framed([MessageType.Ack, sequenceId]),
  sequence: (sequenceId: number): Buffer => framed([MessageType.Sequence, sequenceId]),
  parse: (frame: Buffer, maxDepth: number): HubMessage[] =>
    messagesOf(frame).map((bytes) => hubMessageOf(decoded(bytes, maxDepth))),
  toRecord: (frame: Buffer | string): string => Buffer.from(frame).toString('base64'),
  fromRecord: (text: string): Buffer => Buffer.from(text, 'base64'),
};
