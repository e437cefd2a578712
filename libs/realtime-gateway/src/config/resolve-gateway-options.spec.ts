import { InvalidRealtimeConfigError } from '@realtime-streams/common';
import { parseGatewayEnv } from './gateway-env.parser';
import { resolveGatewayOptions } from './resolve-gateway-options';

describe('gateway envelope bounds', () => {
  const auth = { jwtSecret: 's' };

  it('defaults to the publisher bounds (64 KiB of args, 32 levels) and reads the publisher variables', () => {
    expect(resolveGatewayOptions({ auth }).envelopes).toEqual({ maxArgsBytes: 65_536, maxArgsDepth: 32 });
    const fromEnv = parseGatewayEnv({ JWT_SECRET: 's', REALTIME_MAX_ARGS_BYTES: '1000', REALTIME_MAX_ARGS_DEPTH: '8' });
    expect(resolveGatewayOptions(fromEnv).envelopes).toEqual({ maxArgsBytes: 1000, maxArgsDepth: 8 });
    expect(() => parseGatewayEnv({ REALTIME_MAX_ARGS_DEPTH: 'deep' })).toThrow(
      /REALTIME_MAX_ARGS_DEPTH must be an integer/,
    );
    expect(() => resolveGatewayOptions({ auth, envelopes: { maxArgsDepth: 0 } })).toThrow(
      /envelopes.maxArgsDepth must be an integer between 1 and 10000/,
    );
  });

  it('refuses to start with an envelope cap that does not fit under the slow-client hard bound, naming both', () => {
    const start = () => resolveGatewayOptions({ auth, envelopes: { maxArgsBytes: 2 * 1024 * 1024 } });
    expect(start).toThrow(InvalidRealtimeConfigError);
    expect(start).toThrow(
      /envelopes.maxArgsBytes \(REALTIME_MAX_ARGS_BYTES\) must be at most slowClients.hardLimitBytes \(REALTIME_SLOW_CLIENT_HARD_BYTES, 1048576\) minus 256 bytes/,
    );
    const fromEnv = () =>
      resolveGatewayOptions(
        parseGatewayEnv({
          JWT_SECRET: 's',
          REALTIME_SLOW_CLIENT_SOFT_BYTES: '16384',
          REALTIME_SLOW_CLIENT_HARD_BYTES: '32768',
        }),
      );
    expect(fromEnv).toThrow(/REALTIME_MAX_ARGS_BYTES.*REALTIME_SLOW_CLIENT_HARD_BYTES, 32768/);
  });

  it('accepts a cap that leaves room for the frame under the hard bound', () => {
    const slowClients = { softLimitBytes: 32 * 1024, hardLimitBytes: 100 * 1024 };
    expect(
      resolveGatewayOptions({ auth, slowClients, envelopes: { maxArgsBytes: 100 * 1024 - 256 } }).envelopes
        .maxArgsBytes,
    ).toBe(102_144);
    expect(() => resolveGatewayOptions({ auth, slowClients, envelopes: { maxArgsBytes: 100 * 1024 - 255 } })).toThrow(
      /must be at most slowClients.hardLimitBytes/,
    );
  });
});
