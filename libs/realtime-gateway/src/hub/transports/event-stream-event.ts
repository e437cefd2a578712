const DATA = Buffer.from('data: ');
const EVENT_END = Buffer.from('\r\n\r\n');
const LINE_FEED = 0x0a;

/**
 * A hub frame as one Server-Sent Events event: `data: <frame>` and a blank line, as bytes. Bytes, not a string:
 * while the client does not read, Node holds a string write about four times over what `writableLength` counts.
 */
export function eventStreamEvent(frame: Buffer): Buffer {
  if (!frame.includes(LINE_FEED))
    return Buffer.concat([DATA, frame, EVENT_END], DATA.length + frame.length + EVENT_END.length);
  // A line break inside would end the data line, so each line gets its own `data:`.
  const lines = frame.toString('utf8').split(/\r?\n/);
  return Buffer.from(`data: ${lines.join('\r\ndata: ')}\r\n\r\n`, 'utf8');
}
