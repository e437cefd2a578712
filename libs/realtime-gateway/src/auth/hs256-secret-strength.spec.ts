import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InvalidRealtimeConfigError } from '@realtime-streams/common';
import { parseGatewayEnv } from '../config/gateway-env.parser';
import { resolveGatewayOptions } from '../config/resolve-gateway-options';
import { RESOLVED_GATEWAY_OPTIONS } from '../realtime-gateway.constants';
import { RealtimeGatewayModule } from '../realtime-gateway.module';
import { checkHs256Secret } from './hs256-secret-strength';

const SHORT = 'hunter2-is-not-a-secret';
const STRONG = 'x'.repeat(32);

describe('HS256 secret strength', () => {
  const origin = { label: 'JWT_SECRET (auth.jwt.secret)', env: 'JWT_SECRET' };

  it('refuses a secret under 32 bytes in production, naming the variable and how to make one, never the secret', () => {
    const refuse = () => checkHs256Secret(SHORT, origin, { production: true });
    expect(refuse).toThrow(InvalidRealtimeConfigError);
    expect(refuse).toThrow(
      'Invalid realtime configuration: JWT_SECRET (auth.jwt.secret) must be at least 32 bytes of random data with ' +
        'NODE_ENV=production (a shorter HS256 secret can be guessed from any one token), got a secret of 23 bytes ' +
        '(not shown). Make one with `openssl rand -base64 32` and set it as JWT_SECRET wherever tokens are signed ' +
        'and verified.',
    );
    expect(() => checkHs256Secret('é'.repeat(16), origin, { production: true })).not.toThrow(); // 32 bytes
  });

  it('warns in development and lets it run', () => {
    const warn = jest.fn();
    checkHs256Secret(SHORT, origin, { production: false, warn });
    checkHs256Secret(STRONG, origin, { production: false, warn });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(
      /^JWT_SECRET \(auth.jwt.secret\) is 23 bytes: HS256 secrets shorter than 32 bytes .* NODE_ENV=production refuses them\. Make one with `openssl rand -base64 32` and set it as JWT_SECRET\.$/,
    );
    expect(warn.mock.calls[0][0]).not.toContain(SHORT);
  });

  it('is checked for JWT_SECRET from the environment and for secrets given in code', () => {
    expect(() => parseGatewayEnv({ NODE_ENV: 'production', JWT_SECRET: SHORT })).toThrow(
      /^Invalid realtime configuration: JWT_SECRET \(auth.jwt.secret\) must be at least 32 bytes/,
    );
    expect(() => parseGatewayEnv({ JWT_SECRET: SHORT })).not.toThrow();
    const production = { production: true };
    expect(() => resolveGatewayOptions({ auth: { jwtSecret: SHORT } }, undefined, production)).toThrow(
      /auth.jwtSecret \(JWT_SECRET\) must be at least 32 bytes/,
    );
    expect(() => resolveGatewayOptions({ auth: { jwt: { secret: SHORT } } }, undefined, production)).toThrow(
      /auth.jwt.secret \(JWT_SECRET\) must be at least 32 bytes/,
    );
    expect(resolveGatewayOptions({ auth: { jwtSecret: STRONG } }, undefined, production).verifier).toBeDefined();
  });

  describe('RealtimeGatewayModule', () => {
    const nodeEnv = process.env.NODE_ENV;
    afterEach(() => {
      process.env.NODE_ENV = nodeEnv;
      jest.restoreAllMocks();
    });
    const compile = () =>
      Test.createTestingModule({ imports: [RealtimeGatewayModule.forRoot({ auth: { jwtSecret: SHORT } })] }).compile();

    it('does not start with a short secret when NODE_ENV=production', async () => {
      process.env.NODE_ENV = 'production';
      await expect(compile()).rejects.toThrow(/auth.jwtSecret \(JWT_SECRET\) must be at least 32 bytes/);
    });

    it('starts with a warning, once, in development', async () => {
      process.env.NODE_ENV = 'development';
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const app = await compile();
      expect(app.get(RESOLVED_GATEWAY_OPTIONS)).toBeDefined();
      const warnings = warn.mock.calls.map(([message]) => String(message)).filter((m) => m.includes('32 bytes'));
      expect(warnings).toEqual([expect.stringMatching(/^auth.jwtSecret \(JWT_SECRET\) is 23 bytes/)]);
      await app.close();
    });
  });
});
