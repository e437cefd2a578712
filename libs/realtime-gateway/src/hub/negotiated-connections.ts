import { randomBytes } from 'node:crypto';
import type { AuthenticatedUser } from '../auth/access-token-verifier';

interface Negotiated {
  readonly connectionId: string;
  readonly user: AuthenticatedUser;
  readonly expiresAt: number;
  /** The client asked for stateful reconnect and it was granted. */
  readonly stateful: boolean;
}

/** At most this many negotiated, not yet connected tokens are kept (the oldest go first). */
const MAX_WAITING = 100_000;

/**
 * Connection tokens handed out by negotiate, waiting for their WebSocket. A token is a secret (it goes in the
 * connect URL); the connection id is public. Unused tokens expire; a token serves one socket only.
 */
export class NegotiatedConnections {
  private readonly waiting = new Map<string, Negotiated>();
  private readonly connected = new Set<string>();
  /** Waiting tokens per user, for the per-user connection bound. */
  private readonly waitingByUser = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: AuthenticatedUser, stateful = false): { connectionToken: string; connectionId: string } {
    this.evict();
    // base64url: the client appends the token to the URL without encoding it.
    const connectionToken = randomBytes(16).toString('base64url');
    const connectionId = randomBytes(12).toString('base64url');
    this.waiting.set(connectionToken, { connectionId, user, expiresAt: this.now() + this.ttlMs, stateful });
    this.waitingByUser.set(user.id, (this.waitingByUser.get(user.id) ?? 0) + 1);
    return { connectionToken, connectionId };
  }

  /** Claims a token for a socket: `unknown` (404), `taken` (409) or the negotiated connection. */
  claim(token: string): 'unknown' | 'taken' | Negotiated {
    if (this.connected.has(token)) return 'taken';
    const entry = this.waiting.get(token);
    if (!entry || entry.expiresAt < this.now()) return 'unknown';
    this.forget(token, entry);
    this.connected.add(token);
    return entry;
  }

  /** A token negotiated on another instance connected here: a second socket for it is refused (409). */
  markConnected(token: string): void {
    this.connected.add(token);
  }

  /** The socket of a claimed token closed: the token is spent. */
  release(token: string): void {
    this.connected.delete(token);
  }

  /** Tokens of this user negotiated and not connected yet (expired ones no longer count). */
  waitingFor(userId: string): number {
    this.evict();
    return this.waitingByUser.get(userId) ?? 0;
  }

  private evict(): void {
    const now = this.now();
    for (const [token, entry] of this.waiting) {
      if (entry.expiresAt >= now && this.waiting.size < MAX_WAITING) break;
      this.forget(token, entry);
    }
  }

  private forget(token: string, entry: Negotiated): void {
    this.waiting.delete(token);
    const count = (this.waitingByUser.get(entry.user.id) ?? 1) - 1;
    if (count > 0) this.waitingByUser.set(entry.user.id, count);
    else this.waitingByUser.delete(entry.user.id);
  }
}
