import { type Env, InvalidRealtimeConfigError, optionsFromEnv, parseOptions } from '@realtime-streams/common';
import { readFileSync } from 'node:fs';
import { jwtSettingsSchema } from '../config/gateway-options.schema';
import type { JwtVerificationOptions } from './jwt-verification-options';

export type JwtSettings = NonNullable<ReturnType<typeof jwtSettingsSchema.parse>>;

/**
 * JWT verification settings from the environment (`JWT_*`, from the gateway's schema). Undefined when no key
 * source is set.
 */
export function parseJwtEnv(env: Env): JwtVerificationOptions | undefined {
  const sources = new Map<string, string>();
  const input = optionsFromEnv(jwtSettingsSchema, env, sources) as Record<string, unknown>;
  if (!['secret', 'publicKey', 'publicKeyFile', 'jwksUrl'].some((key) => input[key] !== undefined)) return undefined;
  return jwtVerificationOptions(parseOptions(jwtSettingsSchema, input, sources));
}

/** The verifier's settings: the PEM file read, 0 lifetime as none. */
export function jwtVerificationOptions(jwt: JwtSettings): JwtVerificationOptions {
  const { publicKeyFile, maxLifetimeSec, ...settings } = jwt;
  let publicKey = settings.publicKey;
  if (publicKeyFile) {
    try {
      publicKey = readFileSync(publicKeyFile, 'utf8');
    } catch {
      throw new InvalidRealtimeConfigError(
        'JWT_PUBLIC_KEY_FILE (auth.jwt.publicKeyFile)',
        publicKeyFile,
        'a readable PEM file',
        { fix: 'Check the path, and that this process may read the file.' },
      );
    }
  }
  return { ...settings, publicKey, maxLifetimeSec: maxLifetimeSec ? maxLifetimeSec : undefined };
}
