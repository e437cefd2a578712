import { InvalidRealtimeConfigError, parseRealtimeEnv } from '@realtime-streams/transport';
import { resolveRealtimeOptions } from '@realtime-streams/transport/testing';

describe('HTTP bridge lane options', () => {
  const url = 'http://gw-a:3000/internal/realtime/events';

  it('defaults to 10,000 envelopes and 30 s per instance', () => {
    const resolved = resolveRealtimeOptions(parseRealtimeEnv({ REALTIME_HTTP_BRIDGE_URL: url }));
    expect(resolved.httpBridge).toMatchObject({ laneQueueEnvelopes: 10_000, laneRetryMs: 30_000 });
  });

  it('reads REALTIME_HTTP_BRIDGE_LANE_QUEUE and REALTIME_HTTP_BRIDGE_LANE_RETRY_MS', () => {
    const options = parseRealtimeEnv({
      REALTIME_HTTP_BRIDGE_URL: url,
      REALTIME_HTTP_BRIDGE_LANE_QUEUE: '500',
      REALTIME_HTTP_BRIDGE_LANE_RETRY_MS: '5000',
    });
    expect(options.httpBridge).toMatchObject({ laneQueueEnvelopes: 500, laneRetryMs: 5000 });
  });

  it.each([
    ['REALTIME_HTTP_BRIDGE_LANE_QUEUE', '0'],
    ['REALTIME_HTTP_BRIDGE_LANE_QUEUE', 'lots'],
    ['REALTIME_HTTP_BRIDGE_LANE_RETRY_MS', '-1'],
  ])('refuses %s=%p with a message naming the variable', (name, value) => {
    expect(() => parseRealtimeEnv({ REALTIME_HTTP_BRIDGE_URL: url, [name]: value })).toThrow(
      InvalidRealtimeConfigError,
    );
    expect(() => parseRealtimeEnv({ REALTIME_HTTP_BRIDGE_URL: url, [name]: value })).toThrow(new RegExp(name));
  });

  it('names the option given in code that is wrong', () => {
    expect(() => resolveRealtimeOptions({ httpBridge: { urls: [url], laneQueueEnvelopes: 0 } })).toThrow(
      /httpBridge.laneQueueEnvelopes/,
    );
  });
});
