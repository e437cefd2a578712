import { asHubMessage, completionFrame, HubProtocolError, invocationFrame, parseRecords } from './hub-protocol';

const RS = '\u001e';

describe('hub protocol', () => {
  it('parses several records of one frame', () => {
    expect(parseRecords(`{"type":6}${RS}{"type":1,"target":"A","arguments":[]}${RS}`)).toEqual([
      { type: 6 },
      { type: 1, target: 'A', arguments: [] },
    ]);
  });

  it('refuses a frame without the final separator and garbage JSON', () => {
    expect(() => parseRecords('{"type":6}')).toThrow(HubProtocolError);
    expect(() => parseRecords('{"type":6}')).toThrow(/missing record separator/);
    expect(() => parseRecords(`{"type":${RS}`)).toThrow(/Invalid JSON/);
  });

  it('names the reason of each refusal, which is the label of the protocol error metric', () => {
    const reasonOf = (refuse: () => unknown) => {
      try {
        refuse();
      } catch (error) {
        return error instanceof HubProtocolError ? error.reason : error;
      }
      return undefined;
    };
    expect(reasonOf(() => parseRecords('{"type":6}'))).toBe('incomplete');
    expect(reasonOf(() => parseRecords(`{"type":${RS}`))).toBe('bad_json');
    expect(reasonOf(() => asHubMessage([1]))).toBe('bad_message');
    expect(reasonOf(() => asHubMessage({ type: 1.5 }))).toBe('bad_message');
  });

  it('requires an object with a numeric type', () => {
    expect(() => asHubMessage(null)).toThrow(/must be a JSON object/);
    expect(() => asHubMessage([1])).toThrow(/must be a JSON object/);
    expect(() => asHubMessage({ type: '1' })).toThrow(/numeric type/);
    expect(asHubMessage({ type: 1 })).toEqual({ type: 1 });
  });

  it('builds a broadcast invocation around JSON arguments, without invocationId', () => {
    const frame = invocationFrame('ReceiveMessage', '[{"text":"hi"}]');
    expect(frame.endsWith(RS)).toBe(true);
    expect(JSON.parse(frame.slice(0, -1))).toEqual({ type: 1, target: 'ReceiveMessage', arguments: [{ text: 'hi' }] });
  });

  it('builds completions with a result, without one, and with an error', () => {
    expect(JSON.parse(completionFrame('1', { result: 5 }).slice(0, -1))).toEqual({
      type: 3,
      invocationId: '1',
      result: 5,
    });
    expect(JSON.parse(completionFrame('2', { result: undefined }).slice(0, -1))).toEqual({
      type: 3,
      invocationId: '2',
    });
    expect(JSON.parse(completionFrame('3', { error: 'no' }).slice(0, -1))).toEqual({
      type: 3,
      invocationId: '3',
      error: 'no',
    });
  });
});
