import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { UnauthorizedTokenError } from '../errors/unauthorized-token.error';
import { parseJwtEnv } from './jwt-env.parser';
import { JwtVerifier } from './jwt.verifier';
import { signHs256Jwt } from './sign-hs256-jwt';

describe('JwtVerifier', () => {
  const now = 1_800_000_000_000;
  const nowS = now / 1000;
  const secret = 'a-secret-of-at-least-thirty-two-characters';
  const verifier = new JwtVerifier({ secret }, () => now);
  const sign = (claims: Record<string, unknown>, key = secret) => signHs256Jwt(claims, key);
  const refused = async (token: string, message: RegExp, by = verifier) => {
    await expect(by.verify(token)).rejects.toThrow(UnauthorizedTokenError);
    await expect(by.verify(token)).rejects.toThrow(message);
  };

  it('accepts a valid token, takes the user id from sub and the expiry from exp', async () => {
    await expect(verifier.verify(sign({ sub: 'alice', exp: nowS + 60, role: 'x' }))).resolves.toEqual({
      id: 'alice',
      claims: { sub: 'alice', exp: nowS + 60, role: 'x' },
      expiresAt: now + 60_000,
    });
  });

  it.each([
    ['no exp', () => sign({ sub: 'a' }), /token has no exp/],
    ['a string exp', () => sign({ sub: 'a', exp: String(nowS + 60) }), /exp/],
    [
      'another secret',
      () => sign({ sub: 'a', exp: nowS + 60 }, 'another-secret-of-thirty-two-characters!'),
      /bad token signature/,
    ],
    ['an expired token', () => sign({ sub: 'a', exp: nowS - 60 }), /expired/],
    ['a token not valid yet', () => sign({ sub: 'a', exp: nowS + 900, nbf: nowS + 600 }), /not valid yet/],
    ['no sub', () => sign({ exp: nowS + 60 }), /no sub/],
    ['a sub that is not a string', () => sign({ sub: 7, exp: nowS + 60 }), /no sub/],
    ['two parts', () => 'a.b', /malformed token/],
    ['padding after the signature', () => `${sign({ sub: 'a', exp: nowS + 60 })}==`, /malformed token/],
    ['one padding character', () => `${sign({ sub: 'a', exp: nowS + 60 })}=`, /malformed token/],
    ['junk after the signature', () => `${sign({ sub: 'a', exp: nowS + 60 })}x`, /malformed token|bad token signature/],
    ['whitespace inside', () => sign({ sub: 'a', exp: nowS + 60 }).replace('.', ' .'), /malformed token/],
    ['a huge token', () => 'a'.repeat(9000), /longer than/],
    [
      'alg none',
      () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"a","exp":${nowS + 60}}`).toString('base64url')}.x`,
      /not allowed|malformed/,
    ],
  ])('refuses %s', async (_name, token, message) => {
    await refused(token(), message);
  });

  it('refuses a signature that is not the canonical encoding of its bytes', async () => {
    const token = sign({ sub: 'a', exp: nowS + 60 });
    // 32 bytes take 43 characters; the last one carries 4 unused bits, so another character decodes the same.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = [...alphabet].find(
      (c) =>
        c !== last &&
        Buffer.from(token.slice(-43, -1) + c, 'base64url').equals(Buffer.from(token.slice(-43), 'base64url')),
    );
    await refused(token.slice(0, -1) + twin, /malformed token signature/);
  });

  it('tolerates 30 s of clock difference by default', async () => {
    await expect(verifier.verify(sign({ sub: 'a', exp: nowS - 20 }))).resolves.toMatchObject({ id: 'a' });
  });

  it('checks iss and aud when configured', async () => {
    const strict = new JwtVerifier({ secret, issuer: 'https://idp', audience: ['chat', 'other'] }, () => now);
    await expect(
      strict.verify(sign({ sub: 'a', exp: nowS + 60, iss: 'https://idp', aud: 'chat' })),
    ).resolves.toMatchObject({ id: 'a' });
    await refused(sign({ sub: 'a', exp: nowS + 60, iss: 'https://evil', aud: 'chat' }), /iss/, strict);
    await refused(sign({ sub: 'a', exp: nowS + 60, iss: 'https://idp' }), /aud/, strict);
  });

  it('refuses tokens living longer than the maximum lifetime', async () => {
    const short = new JwtVerifier({ secret, maxLifetimeSec: 3600 }, () => now);
    await expect(short.verify(sign({ sub: 'a', iat: nowS, exp: nowS + 3600 }))).resolves.toMatchObject({ id: 'a' });
    await refused(sign({ sub: 'a', iat: nowS, exp: nowS + 7200 }), /lifetime/, short);
    await refused(sign({ sub: 'a', exp: nowS + 7200 }), /lifetime/, short);
  });

  describe('asymmetric keys', () => {
    let server: Server | undefined;
    afterAll(() => server?.close());

    it('verifies RS256 with a PEM public key and refuses an HS256 token made with that key (algorithm confusion)', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      const pem = await exportSPKI(publicKey);
      const rs = new JwtVerifier({ publicKey: pem });
      const token = await new SignJWT({ sub: 'bob' })
        .setProtectedHeader({ alg: 'RS256' })
        .setExpirationTime('1h')
        .sign(privateKey);
      await expect(rs.verify(token)).resolves.toMatchObject({ id: 'bob' });
      await refused(signHs256Jwt({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 }, pem), /not allowed/, rs);
    });

    it('verifies ES256 with a JWKS URL, picking the key by kid', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const es = new JwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
      const token = await new SignJWT({ sub: 'carol' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setExpirationTime('1h')
        .sign(privateKey);
      await expect(es.verify(token)).resolves.toMatchObject({ id: 'carol' });
      const other = await generateKeyPair('ES256');
      const forged = await new SignJWT({ sub: 'carol' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setExpirationTime('1h')
        .sign(other.privateKey);
      await refused(forged, /bad token signature/, es);
    });
  });

  it('stops at start-up on a configuration that cannot be right', () => {
    expect(() => new JwtVerifier({})).toThrow(/exactly one of secret, publicKey or jwksUrl/);
    expect(() => new JwtVerifier({ secret, jwksUrl: 'https://idp/jwks' })).toThrow(/exactly one/);
    expect(() => new JwtVerifier({ secret, algorithms: ['RS256'] })).toThrow(/auth.jwt.algorithms/);
    expect(() => new JwtVerifier({ jwksUrl: 'https://idp/jwks', algorithms: ['HS256'] })).toThrow(
      /auth.jwt.algorithms/,
    );
    expect(() => new JwtVerifier({ publicKey: 'not a key' })).toThrow(/auth.jwt.publicKey/);
    expect(() => new JwtVerifier({ jwksUrl: 'ftp://idp' })).toThrow(/auth.jwt.jwksUrl/);
  });

  it('reads its settings from the environment', () => {
    expect(parseJwtEnv({})).toBeUndefined();
    expect(
      parseJwtEnv({
        JWT_JWKS_URL: 'https://idp/jwks',
        JWT_ALGORITHMS: 'RS256, ES256',
        JWT_AUDIENCE: 'chat',
        JWT_MAX_LIFETIME_S: '3600',
      }),
    ).toEqual({
      secret: undefined,
      publicKey: undefined,
      jwksUrl: 'https://idp/jwks',
      algorithms: ['RS256', 'ES256'],
      issuer: undefined,
      audience: ['chat'],
      maxLifetimeSec: 3600,
      clockToleranceSec: 30,
    });
    expect(() => parseJwtEnv({ JWT_SECRET: 's', JWT_MAX_LIFETIME_S: 'long' })).toThrow(/JWT_MAX_LIFETIME_S/);
  });
});
