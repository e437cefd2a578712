import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedTokenError } from '../errors/unauthorized-token.error';
import type { AccessTokenVerifier, AuthenticatedUser } from './access-token-verifier';

/** Seconds of clock difference tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 30;

/**
 * Verifies HS256 JWTs: the signature (compared in constant time), `exp` and `nbf`, and a `sub` that becomes the
 * user id. Only HS256 is accepted, whatever the header says, so a token cannot downgrade itself to `none`.
 */
export class Hs256JwtVerifier implements AccessTokenVerifier {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!secret) throw new Error('Hs256JwtVerifier needs a non-empty secret');
    this.key = Buffer.from(secret, 'utf8');
  }

  verify(token: string): AuthenticatedUser {
    const parts = token.split('.');
    if (parts.length !== 3) throw new UnauthorizedTokenError('malformed token');
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = decodeJson(headerPart, 'header');
    if (header.alg !== 'HS256') throw new UnauthorizedTokenError('token algorithm must be HS256');
    const expected = createHmac('sha256', this.key).update(`${headerPart}.${payloadPart}`).digest();
    const given = Buffer.from(signaturePart, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthorizedTokenError('bad token signature');
    }
    const claims = decodeJson(payloadPart, 'payload');
    const nowS = this.now() / 1000;
    if (typeof claims.exp === 'number' && nowS > claims.exp + CLOCK_TOLERANCE_S) {
      throw new UnauthorizedTokenError('token expired');
    }
    if (typeof claims.nbf === 'number' && nowS + CLOCK_TOLERANCE_S < claims.nbf) {
      throw new UnauthorizedTokenError('token not valid yet');
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new UnauthorizedTokenError('token has no sub');
    return { id: claims.sub, claims };
  }
}

/** Signs an HS256 JWT: development tokens (`npm run token`) and tests. */
export function signHs256Jwt(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new UnauthorizedTokenError(`malformed token ${what}`);
}
