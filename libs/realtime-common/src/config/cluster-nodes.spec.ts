import { clusterSeeds } from './cluster-nodes';

describe('clusterSeeds (REDIS_CLUSTER_NODES)', () => {
  it('takes host:port seeds', () => {
    expect(clusterSeeds(['10.0.0.1:7000', 'redis-2:7001', '[::1]:7002'])).toEqual({
      seeds: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      options: { redisOptions: {} },
    });
  });

  it('passes credentials and TLS given on a URL seed to every node', () => {
    const { seeds, options } = clusterSeeds(['rediss://app:s%3Acret@r1:7000', 'rediss://app:s%3Acret@r2:7000']);
    expect(seeds).toEqual([
      { host: 'r1', port: 7000 },
      { host: 'r2', port: 7000 },
    ]);
    expect(options.redisOptions).toEqual({ username: 'app', password: 's:cret', tls: {} });
  });

  it('refuses seeds that disagree on credentials or on TLS, and malformed ones', () => {
    expect(() => clusterSeeds(['redis://:a@r1:7000', 'redis://:b@r2:7000'])).toThrow(/different credentials/);
    expect(() => clusterSeeds(['rediss://r1:7000', 'r2:7000'])).toThrow(/mix of rediss/);
    expect(() => clusterSeeds(['r1'])).toThrow(/Invalid Redis Cluster node "r1"/);
    expect(() => clusterSeeds(['r1:99999'])).toThrow(/Invalid/);
    expect(() => clusterSeeds(['http://r1:7000'])).toThrow(/Invalid/);
  });

  it('never shows the password of a malformed seed', () => {
    expect(() => clusterSeeds(['redis://:hunter2@r1:99999'])).toThrow(
      'Invalid Redis Cluster node "redis://:***@r1:99999"',
    );
  });
});
