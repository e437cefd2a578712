import { InvalidRealtimeConfigError } from '@realtime-streams/common';
import { parseGatewayEnv } from './gateway-env.parser';
import { resolveGatewayOptions } from './resolve-gateway-options';

describe('gateway configuration from the environment', () => {
  it('applies defaults and reads JWT_SECRET, Redis and the bridge', () => {
    const options = resolveGatewayOptions(
      parseGatewayEnv({ JWT_SECRET: 's', REALTIME_BRIDGE_SECRET: 'b', REALTIME_INSTANCE_ID: 'gw-1' }),
    );
    expect(options.instanceId).toBe('gw-1');
    expect(options.hub.path).toBe('/hubs/realtime');
    expect(options.hub.keepAliveIntervalMs).toBe(15_000);
    expect(options.hub.clientTimeoutMs).toBe(30_000);
    expect(options.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', streamKeyPrefix: 'realtime', shards: 1 });
    expect(options.bridge).toEqual({ path: '/internal/realtime/events', secret: 'b', maxBodyBytes: 5 * 1024 * 1024 });
    expect(options.slowClients).toEqual({ softLimitBytes: 262_144, hardLimitBytes: 1_048_576 });
  });

  it('turns the bridge off without a secret and Redis off on request', () => {
    const options = resolveGatewayOptions(parseGatewayEnv({ JWT_SECRET: 's', REALTIME_GATEWAY_REDIS: 'false' }));
    expect(options.bridge).toBeUndefined();
    expect(options.redis).toBeUndefined();
  });

  it('reads a CORS list or *', () => {
    expect(parseGatewayEnv({ REALTIME_CORS_ORIGINS: 'http://a, http://b' }).hub?.corsOrigins).toEqual([
      'http://a',
      'http://b',
    ]);
    expect(parseGatewayEnv({ REALTIME_CORS_ORIGINS: '*' }).hub?.corsOrigins).toBe('*');
  });

  it('stops on bad values, naming them', () => {
    expect(() => parseGatewayEnv({ REALTIME_KEEPALIVE_MS: 'soon' })).toThrow(
      /REALTIME_KEEPALIVE_MS must be an integer between 100 and 600000/,
    );
    expect(() => parseGatewayEnv({ REDIS_URL: 'localhost' })).toThrow(InvalidRealtimeConfigError);
    expect(() => resolveGatewayOptions(parseGatewayEnv({}))).toThrow(
      /JWT_SECRET \(auth.jwt.secret\) must be set, or another way to verify client tokens given, got nothing\. Set JWT_SECRET to the secret your tokens are signed with \(make one with `openssl rand -base64 32`\); for tokens an identity provider signs, set JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL instead/,
    );
    expect(() =>
      resolveGatewayOptions({ auth: { jwtSecret: 's' }, slowClients: { softLimitBytes: 4096, hardLimitBytes: 2048 } }),
    ).toThrow(/hardLimitBytes must be >= softLimitBytes/);
    expect(() => resolveGatewayOptions({ auth: { jwtSecret: 's' }, hub: { path: 'hubs' } })).toThrow(
      /hub.path must be a path/,
    );
  });

  it('reads the per-client limits and the token settings', () => {
    const options = resolveGatewayOptions(
      parseGatewayEnv({
        JWT_SECRET: 's',
        JWT_ISSUER: 'https://idp',
        REALTIME_CLOSE_ON_TOKEN_EXPIRY: 'false',
        REALTIME_MAX_INVOCATIONS_PER_SECOND: '5',
        REALTIME_MAX_GROUPS_PER_CONNECTION: '7',
        REALTIME_MAX_CONNECTIONS_PER_USER: '2',
      }),
    );
    expect(options.limits).toEqual({
      maxInvocationArguments: 32,
      invocationsPerSecond: 5,
      invocationBurst: 40,
      maxRefusedInvocations: 100,
      maxGroupsPerConnection: 7,
      maxConnectionsPerUser: 2,
    });
    expect(options.closeOnTokenExpiry).toBe(false);
    expect(resolveGatewayOptions(parseGatewayEnv({ JWT_SECRET: 's' })).closeOnTokenExpiry).toBe(true);
    expect(() => parseGatewayEnv({ REALTIME_MAX_CONNECTIONS_PER_USER: '0' })).toThrow(
      /REALTIME_MAX_CONNECTIONS_PER_USER/,
    );
    expect(() => resolveGatewayOptions({ auth: { jwtSecret: 's' }, limits: { invocationBurst: 0 } })).toThrow(
      /limits.invocationBurst/,
    );
  });

  it('reads REALTIME_GATEWAY_REDIS as a strict true/false: another value stops start-up instead of meaning true', () => {
    expect(parseGatewayEnv({ REALTIME_GATEWAY_REDIS: 'off' }).redis).toBeUndefined();
    expect(parseGatewayEnv({ REALTIME_GATEWAY_REDIS: 'yes' }).redis).toBeDefined();
    expect(() => parseGatewayEnv({ REALTIME_GATEWAY_REDIS: 'disabled' })).toThrow(
      /REALTIME_GATEWAY_REDIS must be true or false, got "disabled"/,
    );
  });
});

describe('the gateway follows its publishers’ transport (REALTIME_TRANSPORT)', () => {
  const resolve = (env: Record<string, string>) => resolveGatewayOptions(parseGatewayEnv({ JWT_SECRET: 's', ...env }));
  const inputs = (env: Record<string, string>) => {
    const { redis, bridge, inProcess } = resolve(env);
    return { redis: redis !== undefined, bridge: bridge !== undefined, inProcess };
  };

  it.each([
    ['redis-streams', { redis: true, bridge: true, inProcess: true }],
    ['http-bridge', { redis: false, bridge: true, inProcess: true }],
    ['in-process', { redis: false, bridge: false, inProcess: true }],
    ['dual', { redis: true, bridge: true, inProcess: true }],
  ])('%s opens %j', (mode, expected) => {
    expect(inputs({ REALTIME_TRANSPORT: mode, REALTIME_BRIDGE_SECRET: 'b' })).toEqual(expected);
  });

  it('opens every configured input when it is not set, and names what a mode lacks', () => {
    expect(inputs({ REALTIME_BRIDGE_SECRET: 'b' })).toEqual({ redis: true, bridge: true, inProcess: true });
    expect(() => resolve({ REALTIME_TRANSPORT: 'http-bridge' })).toThrow(
      /bridge.secret \(REALTIME_BRIDGE_SECRET\) must be set when transport is 'http-bridge'/,
    );
    expect(() => resolve({ REALTIME_TRANSPORT: 'redis-streams', REALTIME_GATEWAY_REDIS: 'false' })).toThrow(
      /REALTIME_GATEWAY_REDIS, REDIS_URL\) must be configured when transport is 'redis-streams'/,
    );
  });
});
