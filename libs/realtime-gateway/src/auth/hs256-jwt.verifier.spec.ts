import { UnauthorizedTokenError } from '../errors/unauthorized-token.error';
import { Hs256JwtVerifier, signHs256Jwt } from './hs256-jwt.verifier';

describe('Hs256JwtVerifier', () => {
  const now = 1_800_000_000_000;
  const verifier = new Hs256JwtVerifier('secret', () => now);
  const sign = (claims: Record<string, unknown>, secret = 'secret') => signHs256Jwt(claims, secret);

  it('accepts a valid token and takes the user id from sub', () => {
    expect(verifier.verify(sign({ sub: 'alice', exp: now / 1000 + 60, role: 'x' }))).toEqual({
      id: 'alice',
      claims: { sub: 'alice', exp: now / 1000 + 60, role: 'x' },
    });
  });

  it.each([
    ['another secret', () => sign({ sub: 'a' }, 'other'), /bad token signature/],
    ['an expired token', () => sign({ sub: 'a', exp: now / 1000 - 60 }), /expired/],
    ['a token not valid yet', () => sign({ sub: 'a', nbf: now / 1000 + 600 }), /not valid yet/],
    ['no sub', () => sign({ exp: now / 1000 + 60 }), /no sub/],
    ['two parts', () => 'a.b', /malformed token/],
    ['a bad header', () => 'e30.e30.x', /algorithm must be HS256/],
    [
      'alg none',
      () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`,
      /algorithm must be HS256/,
    ],
  ])('refuses %s', (_name, token, message) => {
    expect(() => verifier.verify(token())).toThrow(UnauthorizedTokenError);
    expect(() => verifier.verify(token())).toThrow(message);
  });

  it('tolerates 30 s of clock difference', () => {
    expect(verifier.verify(sign({ sub: 'a', exp: now / 1000 - 20 })).id).toBe('a');
  });
});
