import type { RealtimeRoutingFlags } from '../realtime-transport-options.interface';
import { TransportRouter } from './transport.router';

const flags = (changes: Partial<RealtimeRoutingFlags> = {}): RealtimeRoutingFlags => ({
  useRedisStreams: true,
  redisStreamsPercentage: 100,
  fallbackToHttp: true,
  dualWrite: false,
  ...changes,
});

describe('TransportRouter', () => {
  const both = ['redis-streams', 'http-bridge'] as const;

  it('sends everything to Redis Streams first, the bridge as fallback, by default', () => {
    const router = new TransportRouter([...both], flags());
    expect(router.route('group:room:1')).toEqual({ order: ['redis-streams', 'http-bridge'], dual: false });
  });

  it('drops the bridge from the chain when fallback is off', () => {
    const router = new TransportRouter([...both], flags({ fallbackToHttp: false }));
    expect(router.route('group:room:1').order).toEqual(['redis-streams']);
  });

  it('rolls back to the bridge alone when Redis Streams is switched off', () => {
    const router = new TransportRouter([...both], flags({ useRedisStreams: false }));
    expect(router.route('group:room:1')).toEqual({ order: ['http-bridge'], dual: false });
    expect(router.primaryPlan().order).toEqual(['http-bridge']);
  });

  it('writes to both under dual write', () => {
    const router = new TransportRouter([...both], flags({ dualWrite: true, redisStreamsPercentage: 10 }));
    expect(router.route('group:room:1')).toEqual({ order: ['redis-streams', 'http-bridge'], dual: true });
  });

  it('splits targets by percentage, each target always on the same side', () => {
    const router = new TransportRouter([...both], flags({ redisStreamsPercentage: 30 }));
    let onRedis = 0;
    for (let i = 0; i < 10_000; i++) {
      const first = router.route(`group:room:${i}`).order[0];
      expect(router.route(`group:room:${i}`).order[0]).toBe(first);
      if (first === 'redis-streams') onRedis++;
    }
    expect(Math.abs(onRedis / 100 - 30)).toBeLessThanOrEqual(2);
  });

  it('changes plans and version when flags change', () => {
    const router = new TransportRouter([...both], flags());
    const version = router.version;
    router.apply(flags({ useRedisStreams: false }));
    expect(router.version).not.toBe(version);
    expect(router.route('group:room:1').order).toEqual(['http-bridge']);
  });

  it('uses the in-process transport for everything when it is the one configured', () => {
    const router = new TransportRouter(['in-process'], flags({ dualWrite: true }));
    expect(router.route('all')).toEqual({ order: ['in-process'], dual: false });
  });

  it('falls back to whatever is configured rather than routing nowhere', () => {
    const router = new TransportRouter(['redis-streams'], flags({ useRedisStreams: false }));
    expect(router.route('group:room:1').order).toEqual(['redis-streams']);
  });

  it('gives targets outside the share the next transport first, and the first one as their fallback', () => {
    const router = new TransportRouter([...both], flags({ redisStreamsPercentage: 30 }));
    const plans = new Set<string>();
    for (let i = 0; i < 100; i++) plans.add(router.route(`group:room:${i}`).order.join(','));
    expect([...plans].sort()).toEqual(['http-bridge,redis-streams', 'redis-streams,http-bridge']);
    router.apply(flags({ redisStreamsPercentage: 0 }));
    expect(router.primaryPlan()).toEqual({ order: ['http-bridge', 'redis-streams'], dual: false });
  });

  it("writes every envelope to both transports in transport: 'dual', whatever the dual-write flag says", () => {
    const router = new TransportRouter([...both], flags({ dualWrite: false }), true);
    expect(router.route('room:1')).toEqual({ order: ['redis-streams', 'http-bridge'], dual: true });
    // The rollback flag still works within the mode: Redis Streams off leaves the bridge alone.
    router.apply(flags({ useRedisStreams: false }));
    expect(router.route('room:1')).toEqual({ order: ['http-bridge'], dual: false });
  });
});
