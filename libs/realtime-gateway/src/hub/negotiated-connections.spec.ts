import { NegotiatedConnections } from './negotiated-connections';

describe('NegotiatedConnections', () => {
  const user = { id: 'alice', claims: {} };

  it('lets one socket claim a token, once', () => {
    const tokens = new NegotiatedConnections(1000, () => 0);
    const { connectionToken, connectionId } = tokens.create(user);
    expect(connectionToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(tokens.claim(connectionToken)).toEqual({ connectionId, user, expiresAt: 1000 });
    expect(tokens.claim(connectionToken)).toBe('taken');
    tokens.release(connectionToken);
    expect(tokens.claim(connectionToken)).toBe('unknown');
  });

  it('expires unused tokens', () => {
    let now = 0;
    const tokens = new NegotiatedConnections(1000, () => now);
    const { connectionToken } = tokens.create(user);
    now = 1001;
    expect(tokens.claim(connectionToken)).toBe('unknown');
    expect(tokens.claim('never-issued')).toBe('unknown');
  });
});
