import { NegotiatedConnections } from './negotiated-connections';

describe('NegotiatedConnections', () => {
  const user = { id: 'alice', claims: {} };

  it('lets one socket claim a token, once', () => {
    const tokens = new NegotiatedConnections(1000, () => 0);
    const { connectionToken, connectionId } = tokens.create(user);
    expect(connectionToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(tokens.claim(connectionToken)).toEqual({ connectionId, user, expiresAt: 1000, stateful: false });
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

  it('counts the tokens each user has waiting, until they are claimed or expire', () => {
    let now = 0;
    const tokens = new NegotiatedConnections(1000, () => now);
    const first = tokens.create(user);
    tokens.create(user);
    tokens.create({ id: 'bob', claims: {} });
    expect(tokens.waitingFor('alice')).toBe(2);
    tokens.claim(first.connectionToken);
    expect(tokens.waitingFor('alice')).toBe(1);
    now = 1001;
    expect(tokens.waitingFor('alice')).toBe(0);
    expect(tokens.waitingFor('bob')).toBe(0);
  });
});
