/** Who a connection belongs to. */
export interface AuthenticatedUser {
  /** User id: user-targeted envelopes reach every connection with it. */
  readonly id: string;
  /** Verified claims, for authorization hooks. */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * When the credential stops being valid (epoch ms). An open connection is closed then, with a close message the
   * client reconnects on (`auth.closeOnExpiration`). @default the `exp` claim, when it is a number
   */
  readonly expiresAt?: number;
}

/**
 * Turns an access token into a user, or rejects with an `UnauthorizedTokenError`. The default is `JwtVerifier`
 * (HS256, RS256/ES256 with a key or a JWKS); applications plug in their own (opaque tokens, sessions, ...) through
 * the `auth.verifier` option.
 */
export interface AccessTokenVerifier {
  verify(token: string): AuthenticatedUser | Promise<AuthenticatedUser>;
}

/** When a user's credential expires (epoch ms), or undefined when it does not. */
export function expiryOf(user: AuthenticatedUser): number | undefined {
  if (user.expiresAt !== undefined) return user.expiresAt;
  const exp = user.claims.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
