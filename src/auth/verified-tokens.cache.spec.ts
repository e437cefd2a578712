import type { AuthenticatedUser } from '@realtime-streams/gateway';
import { VerifiedTokens } from './verified-tokens.cache';

const userOf = (id: string, expiresAt?: number): AuthenticatedUser => ({ id, claims: { sub: id }, expiresAt });

describe('VerifiedTokens', () => {
  it('answers a verified token until its TTL', () => {
    let now = 1_000_000;
    const tokens = new VerifiedTokens(60_000, 10, () => now);
    tokens.set('a', userOf('alice', now + 3_600_000));
    now += 59_999;
    expect(tokens.get('a')?.id).toBe('alice');
    now += 1;
    expect(tokens.get('a')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('never answers a token past its exp, nor keeps one already expired', () => {
    let now = 1_000_000;
    const tokens = new VerifiedTokens(60_000, 10, () => now);
    tokens.set('a', userOf('alice', now + 1000));
    tokens.set('old', userOf('bob', now));
    expect(tokens.get('old')).toBeUndefined();
    now += 999;
    expect(tokens.get('a')?.id).toBe('alice');
    now += 1;
    expect(tokens.get('a')).toBeUndefined();
  });

  it('keeps at most its capacity, dropping the oldest', () => {
    const tokens = new VerifiedTokens(60_000, 2, () => 0);
    tokens.set('a', userOf('a'));
    tokens.set('b', userOf('b'));
    tokens.set('c', userOf('c'));
    expect([tokens.get('a'), tokens.get('b')?.id, tokens.get('c')?.id]).toEqual([undefined, 'b', 'c']);
    expect(tokens.size).toBe(2);
  });
});
