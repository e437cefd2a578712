import { ReplyError } from 'ioredis';
import { TransportDisconnectedError } from '../errors/transport-disconnected.error';
import { FakeTransport } from '../testing/fake.transport';
import { probeWrites } from '../transports/redis-write-probe';
import { CircuitBreaker } from './circuit-breaker';
import type { ChainLink } from './fallback-chain';
import { HealthProber } from './health-prober';

/** An error reply as ioredis rejects with it (typed as an Error: its typings do not say so). */
const replyError = (message: string): Error => new ReplyError(message) as Error;

/**
 * A Redis Streams transport whose health is the write probe, against a Redis that answers PING all along but may
 * refuse writes.
 */
class RefusableRedis extends FakeTransport {
  /** The reply Redis gives every write now; undefined while it takes them. */
  refusal?: string;

  constructor() {
    super('redis-streams');
  }

  override health(): Promise<void> {
    return probeWrites(
      {
        realtimeAppend: () =>
          this.refusal === undefined ? Promise.resolve(0) : Promise.reject(replyError(this.refusal)),
      },
      'realtime:{0}',
    );
  }
}

const REFUSALS = [
  "OOM command not allowed when used memory > 'maxmemory'. script: a1802d46, on @user_script:3.",
  "READONLY You can't write against a read only replica. script: a1802d46, on @user_script:3.",
  'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
  'NOREPLICAS Not enough good replicas to write.',
];

describe('HealthProber', () => {
  let clock: number;
  let redis: RefusableRedis;
  let link: ChainLink;
  let prober: HealthProber;

  beforeEach(() => {
    clock = 1_000_000;
    redis = new RefusableRedis();
    link = { transport: redis, breaker: new CircuitBreaker({ failureThreshold: 3, openMs: 300 }, () => clock), bit: 1 };
    prober = new HealthProber([link], 1000, 500);
  });

  it.each(REFUSALS)(
    'counts a refused write as a failure: the breaker opens and stays open while Redis refuses (%s)',
    async (refusal) => {
      redis.refusal = refusal;
      await prober.probeAll();
      expect(prober.lastResult('redis-streams')).toMatchObject({ healthy: false });
      expect(prober.lastResult('redis-streams')!.error).toContain(refusal);
      expect(link.breaker.state).toBe('closed'); // one failed probe does not move traffic
      await prober.probeAll();
      await prober.probeAll();
      expect(link.breaker.state).toBe('open');

      // Time passes; each probe is refused again: the breaker never gets to half-open, let alone closed.
      for (let i = 0; i < 5; i++) {
        clock += 200;
        await prober.probeAll();
        expect(link.breaker.allowsTraffic()).toBe(false);
      }

      // Redis takes writes again: after openMs the probe closes the breaker.
      redis.refusal = undefined;
      clock += 300;
      await prober.probeAll();
      expect(link.breaker.state).toBe('closed');
      expect(prober.lastResult('redis-streams')).toMatchObject({ healthy: true });
    },
  );

  it('opens at once when the transport reports no connection', async () => {
    redis.health = () => Promise.reject(new TransportDisconnectedError('redis-streams', 'connection is reconnecting'));
    await prober.probeAll();
    expect(link.breaker.state).toBe('open');
  });
});
