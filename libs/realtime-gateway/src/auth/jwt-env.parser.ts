import { readFileSync } from 'node:fs';
import { type Env, InvalidRealtimeConfigError, readNumber, readString } from '@realtime-streams/common';
import type { JwtVerificationOptions } from './jwt-verification-options';

/**
 * JWT verification settings from the environment: `JWT_SECRET`, or `JWT_PUBLIC_KEY` (PEM, `\n` escapes allowed) /
 * `JWT_PUBLIC_KEY_FILE`, or `JWT_JWKS_URL`; `JWT_ALGORITHMS`, `JWT_ISSUER`, `JWT_AUDIENCE` (comma-separated),
 * `JWT_MAX_LIFETIME_S`, `JWT_CLOCK_TOLERANCE_S`. Undefined when no key source is set.
 */
export function parseJwtEnv(env: Env): JwtVerificationOptions | undefined {
  const keyFile = readString(env, 'JWT_PUBLIC_KEY_FILE');
  let publicKey = readString(env, 'JWT_PUBLIC_KEY');
  if (keyFile) {
    try {
      publicKey = readFileSync(keyFile, 'utf8');
    } catch {
      throw new InvalidRealtimeConfigError('JWT_PUBLIC_KEY_FILE', keyFile, 'a readable PEM file');
    }
  }
  const secret = readString(env, 'JWT_SECRET');
  const jwksUrl = readString(env, 'JWT_JWKS_URL');
  if (!secret && !publicKey && !jwksUrl) return undefined;
  const maxLifetime = readNumber(env, 'JWT_MAX_LIFETIME_S', 0, 0, 366 * 86_400);
  return {
    secret,
    publicKey,
    jwksUrl,
    algorithms: list(env, 'JWT_ALGORITHMS'),
    issuer: list(env, 'JWT_ISSUER'),
    audience: list(env, 'JWT_AUDIENCE'),
    maxLifetimeSec: maxLifetime > 0 ? maxLifetime : undefined,
    clockToleranceSec: readNumber(env, 'JWT_CLOCK_TOLERANCE_S', 30, 0, 3600),
  };
}

function list(env: Env, name: string): string[] | undefined {
  const value = readString(env, name);
  return value
    ?.split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
