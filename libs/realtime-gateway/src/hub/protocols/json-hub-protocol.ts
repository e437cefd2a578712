import {
  ackFrame,
  asHubMessage,
  closeFrame,
  completionFrame,
  type HubMessage,
  invocationFrame,
  parseRecords,
  PING_FRAME,
  sequenceFrame,
} from '../hub-protocol';
import type { CompletionOutcome, HubProtocolCodec } from './hub-protocol-codec';

/** The JSON hub protocol: text records, each ended by the record separator 0x1E. */
export const JSON_HUB_PROTOCOL: HubProtocolCodec = {
  name: 'json',
  binary: false,
  invocation: (method: string, args: readonly unknown[], argsJson?: string): Buffer =>
    Buffer.from(invocationFrame(method, argsJson ?? JSON.stringify(args)), 'utf8'),
  completion: (invocationId: string, outcome: CompletionOutcome): Buffer =>
    Buffer.from(completionFrame(invocationId, outcome), 'utf8'),
  ping: Buffer.from(PING_FRAME, 'utf8'),
  close: (error: string | undefined, allowReconnect: boolean): Buffer =>
    Buffer.from(closeFrame(error, allowReconnect), 'utf8'),
  ack: (sequenceId: number): Buffer => Buffer.from(ackFrame(sequenceId), 'utf8'),
  sequence: (sequenceId: number): Buffer => Buffer.from(sequenceFrame(sequenceId), 'utf8'),
  // JSON.parse builds no more than the text it reads, and without recursion: the depth is checked on the arguments.
  parse: (frame: Buffer): HubMessage[] => parseRecords(frame.toString('utf8')).map(asHubMessage),
  toRecord: (frame: Buffer | string): string => (typeof frame === 'string' ? frame : frame.toString('utf8')),
  fromRecord: (text: string): string => text,
};
