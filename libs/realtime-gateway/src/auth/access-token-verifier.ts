/** Who a connection belongs to. */
export interface AuthenticatedUser {
  /** User id: user-targeted envelopes reach every connection with it. */
  readonly id: string;
  /** Verified claims, for authorization hooks. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Turns an access token into a user, or rejects with an `UnauthorizedTokenError`. The default verifies HS256 JWTs;
 * applications plug in their own (RS256 with a JWKS, opaque tokens, ...) through the `auth.verifier` option.
 */
export interface AccessTokenVerifier {
  verify(token: string): AuthenticatedUser | Promise<AuthenticatedUser>;
}
