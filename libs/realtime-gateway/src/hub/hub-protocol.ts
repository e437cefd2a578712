/**
 * The SignalR JSON hub protocol, as the stock @microsoft/signalr client speaks it: records of JSON, each followed
 * by the record separator 0x1E; several records may share one WebSocket frame.
 */
export const RECORD_SEPARATOR = '\u001e';

export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

export interface InvocationMessage {
  type: 1;
  target: string;
  arguments: unknown[];
  invocationId?: string;
  streamIds?: string[];
}

/** A hub message from a client: `type` is known to be a number; the rest is checked where it is used. */
export interface HubMessage {
  type: number;
  [field: string]: unknown;
}

/** The handshake answer that must be the server's very first bytes. */
export const HANDSHAKE_OK = '{}' + RECORD_SEPARATOR;
export const PING_FRAME = '{"type":6}' + RECORD_SEPARATOR;

export function handshakeError(message: string): string {
  return JSON.stringify({ error: message }) + RECORD_SEPARATOR;
}

export function closeFrame(error?: string, allowReconnect = true): string {
  const message: Record<string, unknown> = { type: MessageType.Close };
  if (error) message.error = error;
  if (allowReconnect) message.allowReconnect = true;
  return JSON.stringify(message) + RECORD_SEPARATOR;
}

export function completionFrame(invocationId: string, outcome: { result: unknown } | { error: string }): string {
  const message =
    'error' in outcome
      ? { type: MessageType.Completion, invocationId, error: outcome.error }
      : outcome.result === undefined
        ? { type: MessageType.Completion, invocationId }
        : { type: MessageType.Completion, invocationId, result: outcome.result };
  return JSON.stringify(message) + RECORD_SEPARATOR;
}

/**
 * A broadcast invocation built around arguments that are already JSON, so an envelope is serialized once for all
 * its recipients. No `invocationId`: the client must not answer.
 */
export function invocationFrame(method: string, argumentsJson: string): string {
  return '{"type":1,"target":' + JSON.stringify(method) + ',"arguments":' + argumentsJson + '}' + RECORD_SEPARATOR;
}

/**
 * Why a client's frame was refused. The values are the `reason` label of `realtime_hub_protocol_errors_total`, so
 * they must not change once dashboards use them; `bad_message` covers every well-formed record the hub cannot serve.
 */
export type HubProtocolErrorReason =
  'incomplete' | 'bad_json' | 'bad_messagepack' | 'binary' | 'too_large' | 'bad_message' | 'transport';

export class HubProtocolError extends Error {
  constructor(
    readonly reason: HubProtocolErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'HubProtocolError';
  }
}

/**
 * Splits a text frame into records and parses each. The frame must end with the separator: the stock client never
 * splits a record across frames, so a frame without one is malformed.
 *
 * @throws HubProtocolError naming what is wrong.
 */
export function parseRecords(frame: string): unknown[] {
  if (!frame.endsWith(RECORD_SEPARATOR))
    throw new HubProtocolError('incomplete', 'Message is incomplete: missing record separator');
  const parts = frame.split(RECORD_SEPARATOR);
  const records: unknown[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    try {
      records.push(JSON.parse(parts[i]));
    } catch {
      throw new HubProtocolError('bad_json', 'Invalid JSON in hub message');
    }
  }
  return records;
}

export function asHubMessage(record: unknown): HubMessage {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new HubProtocolError('bad_message', 'A hub message must be a JSON object');
  }
  const type = (record as { type?: unknown }).type;
  if (typeof type !== 'number' || !Number.isInteger(type))
    throw new HubProtocolError('bad_message', 'A hub message needs a numeric type');
  return record as HubMessage;
}

/** Stateful reconnect: the highest client message id processed. */
export function ackFrame(sequenceId: number): string {
  return '{"type":8,"sequenceId":' + sequenceId + '}' + RECORD_SEPARATOR;
}

/** Stateful reconnect: the first message after a reconnect, the id of the next message the server sends. */
export function sequenceFrame(sequenceId: number): string {
  return '{"type":9,"sequenceId":' + sequenceId + '}' + RECORD_SEPARATOR;
}
