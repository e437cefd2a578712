import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { InvalidRealtimeConfigError } from '@realtime-streams/common';
import { UnauthorizedTokenError } from '../errors/unauthorized-token.error';
import type { AccessTokenVerifier, AuthenticatedUser } from './access-token-verifier';
import {
  ASYMMETRIC_ALGORITHMS,
  HMAC_ALGORITHMS,
  type JwtVerificationOptions,
  MAX_TOKEN_LENGTH,
} from './jwt-verification-options';

/** Three base64url segments, nothing else: no padding, no whitespace, no fourth part. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_SUB_LENGTH = 256;

/**
 * Verifies JWTs with jose: the signature (HS256 by default, or RS256/ES256 with a public key or a JWKS), `exp`
 * (required), `nbf`, `iat`, and optionally `iss`, `aud` and a maximum lifetime; `sub` becomes the user id.
 * Encoding is strict: jose decodes base64url leniently (padding and junk after a valid signature pass), so the
 * compact form is checked first and the signature must be the one canonical encoding of its bytes.
 */
export class JwtVerifier implements AccessTokenVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly toleranceS: number;

  constructor(
    private readonly options: JwtVerificationOptions,
    private readonly now: () => number = Date.now,
  ) {
    const sources = (['secret', 'publicKey', 'jwksUrl'] as const).filter((key) => Boolean(options[key]));
    if (sources.length !== 1) {
      throw new InvalidRealtimeConfigError(
        'auth.jwt (JWT_SECRET, JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE, JWT_JWKS_URL)',
        sources.length === 0 ? undefined : sources,
        'exactly one of secret, publicKey or jwksUrl',
        {
          fix:
            sources.length === 0
              ? 'Set the one your tokens are signed with.'
              : 'Keep the one your tokens are signed with and unset the others.',
        },
      );
    }
    const hmac = Boolean(options.secret);
    this.algorithms = options.algorithms ?? (hmac ? ['HS256'] : ['RS256', 'ES256']);
    const allowed = hmac ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS;
    const wrong = this.algorithms.find((algorithm) => !allowed.includes(algorithm));
    if (wrong || this.algorithms.length === 0) {
      throw new InvalidRealtimeConfigError(
        'auth.jwt.algorithms (JWT_ALGORITHMS)',
        this.algorithms.join(','),
        `${hmac ? 'HMAC algorithms with a secret' : 'asymmetric algorithms with a public key or JWKS'} (${allowed.join(', ')})`,
        { fix: 'Unset it for the default of the key source, or list only algorithms of that family.' },
      );
    }
    this.toleranceS = options.clockToleranceSec ?? 30;
    if (options.maxLifetimeSec !== undefined && !(options.maxLifetimeSec > 0)) {
      throw new InvalidRealtimeConfigError(
        'auth.jwt.maxLifetimeSec (JWT_MAX_LIFETIME_S)',
        options.maxLifetimeSec,
        'a positive number of seconds',
        { fix: 'Leave it out for no maximum.' },
      );
    }
    if (options.secret) this.key = new TextEncoder().encode(options.secret);
    else if (options.publicKey) this.key = publicKeyOf(options.publicKey);
    else
      this.key = createRemoteJWKSet(jwksUrlOf(options.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    if (token.length > MAX_TOKEN_LENGTH)
      throw new UnauthorizedTokenError(`token longer than ${MAX_TOKEN_LENGTH} characters`);
    if (!COMPACT_JWS.test(token)) throw new UnauthorizedTokenError('malformed token');
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
      throw new UnauthorizedTokenError('malformed token signature');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.toleranceS,
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw new UnauthorizedTokenError(reasonOf(error));
    }
    const nowS = this.now() / 1000;
    const exp = payload.exp!;
    const max = this.options.maxLifetimeSec;
    if (max !== undefined) {
      const lifetime = typeof payload.iat === 'number' ? exp - payload.iat : exp - nowS;
      if (lifetime > max || exp - nowS > max + this.toleranceS) {
        throw new UnauthorizedTokenError(`token lifetime over the maximum of ${max} s`);
      }
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUB_LENGTH) {
      throw new UnauthorizedTokenError(`token has no sub (a string of 1-${MAX_SUB_LENGTH} characters)`);
    }
    return { id: sub, claims: payload, expiresAt: exp * 1000 };
  }
}

/** What went wrong, in words a client developer can act on; never the token itself. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') return 'token has no exp';
    if (error.claim === 'nbf') return 'token not valid yet';
    return `token claim ${error.claim} ${error.reason === 'missing' ? 'is missing' : 'is invalid'}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad token signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the key set matches the token';
  if (error instanceof errors.JWKSTimeout) return 'the key set could not be fetched in time';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed token';
  if (error instanceof errors.JOSEError) return `invalid token (${error.code})`;
  return 'invalid token';
}

function publicKeyOf(pem: string): KeyObject {
  try {
    return createPublicKey(pem.replace(/\\n/g, '\n'));
  } catch {
    throw new InvalidRealtimeConfigError(
      'auth.jwt.publicKey (JWT_PUBLIC_KEY)',
      pem,
      'a PEM public key (SPKI) or certificate',
      {
        fix: 'Give the whole PEM text, BEGIN and END lines included (\\n escapes allowed), or its file as JWT_PUBLIC_KEY_FILE.',
      },
    );
  }
}

function jwksUrlOf(value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // Reported below.
  }
  throw new InvalidRealtimeConfigError('auth.jwt.jwksUrl (JWT_JWKS_URL)', value, 'an http(s) URL', {
    fix: "Give the identity provider's key set URL, e.g. https://idp.example/.well-known/jwks.json.",
  });
}
