import type { AuthenticatedUser } from '@realtime-streams/gateway';

/** How long a verified token is trusted without checking its signature again. @default 60 s */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Tokens remembered at most; the oldest goes first. @default 10,000 */
export const VERIFIED_TOKEN_CAPACITY = 10_000;

/**
 * Tokens the verifier accepted, by their exact text (the guard uses the whole `Authorization` header), until `min(exp, verified + ttl)`: a client posting many messages
 * with one token pays the signature check (jose: key import, HMAC, claim checks; a tenth of the API's time per
 * request) once a minute instead of per request. Only accepted tokens are kept, so a client cannot fill it with
 * garbage; an expired token is never answered from it (`exp` is applied without the verifier's clock tolerance). A
 * signing key withdrawn from a key set stops being honoured within the TTL.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { user: AuthenticatedUser; until: number }>();

  constructor(
    private readonly ttlMs = VERIFIED_TOKEN_TTL_MS,
    private readonly capacity = VERIFIED_TOKEN_CAPACITY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user of a token verified before and still within its time, else undefined. */
  get(token: string): AuthenticatedUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.user;
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers a token the verifier just accepted. */
  set(token: string, user: AuthenticatedUser): void {
    const now = this.now();
    const until = Math.min(now + this.ttlMs, user.expiresAt ?? Infinity);
    if (until <= now) return;
    if (this.entries.size >= this.capacity && !this.entries.has(token)) {
      // Insertion order: the first key is the oldest.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, { user, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
