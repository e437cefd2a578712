import { InvalidRealtimeConfigError } from '@realtime-streams/common';

/** RFC 7518 §3.2: an HS256 key as long as the hash (32 bytes); shorter ones can be guessed offline from one token. */
export const MIN_HS256_SECRET_BYTES = 32;
export const HOW_TO_MAKE_A_SECRET = 'Make one with `openssl rand -base64 32`';

/** Where the secret was given, for the message: `JWT_SECRET (auth.jwt.secret)`, `auth.jwtSecret`... */
export interface SecretOrigin {
  label: string;
  /** The variable to set, named in the fix even when the value came from code. */
  env: string;
}

/** What a short secret gets: refused in production, a warning (once, by the caller) elsewhere. */
export interface SecretPolicy {
  production: boolean;
  warn?: (message: string) => void;
}

/**
 * Checks the length of an HS256 secret. With NODE_ENV=production a secret shorter than 32 bytes stops start-up
 * (anyone holding one token could brute-force it and sign tokens for any user); in development it is a warning, so
 * `JWT_SECRET=dev` still works on a laptop.
 */
export function checkHs256Secret(secret: string, origin: SecretOrigin, policy: SecretPolicy): void {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes >= MIN_HS256_SECRET_BYTES) return;
  if (policy.production) {
    throw new InvalidRealtimeConfigError(
      origin.label,
      secret,
      `at least ${MIN_HS256_SECRET_BYTES} bytes of random data with NODE_ENV=production (a shorter HS256 secret can be guessed from any one token)`,
      {
        secret: true,
        fix: `${HOW_TO_MAKE_A_SECRET} and set it as ${origin.env} wherever tokens are signed and verified.`,
      },
    );
  }
  policy.warn?.(
    `${origin.label} is ${bytes} bytes: HS256 secrets shorter than ${MIN_HS256_SECRET_BYTES} bytes can be guessed ` +
      `from any one token, and NODE_ENV=production refuses them. ${HOW_TO_MAKE_A_SECRET} and set it as ${origin.env}.`,
  );
}
