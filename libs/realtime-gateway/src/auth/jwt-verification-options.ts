/**
 * How the default verifier checks JWTs. Give exactly one key source: `secret` (HMAC), `publicKey` or `jwksUrl`
 * (the identity provider signs the tokens).
 */
export interface JwtVerificationOptions {
  /** Shared secret of HS256 tokens (at least 32 characters in production). */
  secret?: string;
  /** PEM public key (SPKI or certificate) of RS256/ES256 tokens. */
  publicKey?: string;
  /** URL of a JSON Web Key Set (`https://idp.example/.well-known/jwks.json`); keys are picked by `kid`. */
  jwksUrl?: string;
  /**
   * Algorithms accepted. HMAC algorithms only go with `secret`, asymmetric ones only with a key or JWKS, so a token
   * cannot pick the other family (algorithm confusion).
   * @default ['HS256'] with a secret, ['RS256', 'ES256'] with a public key or JWKS
   */
  algorithms?: string[];
  /** Required `iss` (one of). @default not checked */
  issuer?: string | string[];
  /** Required `aud` (one of). @default not checked */
  audience?: string | string[];
  /** Longest lifetime a token may have, in seconds (`exp` minus `iat`, and `exp` minus now). @default no maximum */
  maxLifetimeSec?: number;
  /** Clock difference tolerated on `exp`, `nbf` and `iat`, in seconds. @default 30 */
  clockToleranceSec?: number;
}

/** Tokens longer than this are refused before any decoding. */
export const MAX_TOKEN_LENGTH = 8192;
export const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512'];
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
