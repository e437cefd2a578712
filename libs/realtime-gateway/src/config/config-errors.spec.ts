import { parseGatewayEnv } from './gateway-env.parser';
import { resolveGatewayOptions } from './resolve-gateway-options';

/** The message `parse` throws. */
function messageOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('gateway configuration errors say what was expected and how to fix it', () => {
  it('an unset JWT_SECRET names the variable, how to make one and the alternatives', () => {
    expect(messageOf(() => resolveGatewayOptions(parseGatewayEnv({})))).toBe(
      'Invalid realtime configuration: JWT_SECRET (auth.jwt.secret) must be set, or another way to verify client ' +
        'tokens given, got nothing. Set JWT_SECRET to the secret your tokens are signed with (make one with ' +
        '`openssl rand -base64 32`); for tokens an identity provider signs, set JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE ' +
        'or JWT_JWKS_URL instead; in code, give auth.jwtSecret, auth.jwt or auth.verifier.',
    );
  });

  it('an empty secret is "a non-empty string", not "at least 1"', () => {
    expect(messageOf(() => resolveGatewayOptions({ auth: { jwtSecret: '' } }))).toMatch(
      /^Invalid realtime configuration: auth.jwtSecret must be a non-empty string, got ""\. Fix auth.jwtSecret in the module options/,
    );
  });

  it('an enum names its choices', () => {
    expect(messageOf(() => parseGatewayEnv({ REALTIME_HUB_TRANSPORTS: 'WebSockets,LongPoll' }))).toMatch(
      /^Invalid realtime configuration: REALTIME_HUB_TRANSPORTS \(hub.transports\) must be one of WebSockets, ServerSentEvents or LongPolling, got "LongPoll"\. Fix REALTIME_HUB_TRANSPORTS, or unset it to use the default \(WebSockets,ServerSentEvents,LongPolling\)\.$/,
    );
  });

  it('a number that is not one names the variable and the option it sets', () => {
    expect(messageOf(() => parseGatewayEnv({ REALTIME_KEEPALIVE_MS: 'soon' }))).toBe(
      'Invalid realtime configuration: REALTIME_KEEPALIVE_MS must be an integer between 100 and 600000, got "soon". ' +
        'REALTIME_KEEPALIVE_MS sets hub.keepAliveIntervalMs: fix it, or unset it to use the default (15000).',
    );
  });

  it('never shows the bridge secret or a Redis password', () => {
    const secret = messageOf(() =>
      resolveGatewayOptions({ auth: { jwtSecret: 'x'.repeat(32) }, bridge: { secret: '' } }),
    );
    expect(secret).toMatch(/bridge.secret must be a non-empty string, got ""/);
    const redis = messageOf(() => parseGatewayEnv({ REDIS_URL: 'http://:hunter2@host' }));
    expect(redis).toMatch(
      /REDIS_URL \(redis.url\) must be a URL starting with redis:\/\/ or rediss:\/\/, got "http:\/\/:\*\*\*@host"/,
    );
    expect(redis).not.toContain('hunter2');
  });
});
