/**
 * The SignalR JSON hub protocol, as much of it as the scale bench's raw clients and its floor server speak: records
 * are JSON texts each ended by the record separator, and one WebSocket frame may carry several.
 */
export const RS = '\u001e';
export const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;
export const PING = `{"type":6}${RS}`;
export const JOIN_INVOCATION_ID = '1';

/** What marks the records worth looking into: everything else a client gets is pings. */
export const RECEIVE_MESSAGE = '"target":"ReceiveMessage"';

export function joinRoomRecord(room: string): string {
  return JSON.stringify({ type: 1, target: 'JoinRoom', arguments: [room], invocationId: JOIN_INVOCATION_ID }) + RS;
}

/** `ReceiveMessage(message)` around an already serialised message, as the gateway writes it. */
export function receiveMessageRecord(messageJson: string): string {
  return `{"type":1,"target":"ReceiveMessage","arguments":[${messageJson}]}${RS}`;
}

const TEXT = '"text":"';
const ACCEPTED_AT = '"acceptedAt":';

/**
 * The text and `acceptedAt` of a ReceiveMessage record, found by position instead of JSON.parse: a worker reads
 * thousands of these a second and must not be what limits the run. The bench's texts (`<sender>|<seq>|<phase>`)
 * hold no quote or escape, so the text ends at the next quote.
 */
export function deliveryOf(record: string): { text: string; acceptedAt: number } | undefined {
  const textStart = record.indexOf(TEXT);
  const acceptedStart = record.indexOf(ACCEPTED_AT);
  if (textStart === -1 || acceptedStart === -1) return undefined;
  const from = textStart + TEXT.length;
  const to = record.indexOf('"', from);
  const acceptedAt = parseFloat(record.slice(acceptedStart + ACCEPTED_AT.length, acceptedStart + 40));
  if (to === -1 || !Number.isFinite(acceptedAt)) return undefined;
  return { text: record.slice(from, to), acceptedAt };
}
