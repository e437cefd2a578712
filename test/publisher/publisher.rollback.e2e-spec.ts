import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamKey } from '@realtime-streams/contracts';
import type Redis from 'ioredis';
import { BridgeReceiver } from '../support/bridge-receiver';
import { TsChild } from '../support/child-process';
import { RedisServer } from '../support/redis-server';
import { readStream } from '../support/stream-reader';

/**
 * The service runs in a child process because a real SIGHUP has to reach it (Jest's sandbox never sees signals).
 * The child wires the module like an application: ConfigModule + realtimeConfig + forRootAsync.
 */
describe('rollback by configuration: SIGHUP re-reads the env file (real redis-server, real HTTP receiver, real signal)', () => {
  let redis: RedisServer;
  let bridge: BridgeReceiver;
  let client: Redis;
  let child: TsChild;
  let dir: string;
  let envFile: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await new BridgeReceiver('s').start();
    client = redis.client();
    dir = mkdtempSync(join(tmpdir(), 'realtime-env-'));
    envFile = join(dir, '.env');
    writeFileSync(envFile, 'REALTIME_USE_REDIS_STREAMS=true\n');
    child = new TsChild('test/fixtures/publisher-process.ts', {
      REDIS_URL: redis.url,
      REALTIME_HTTP_BRIDGE_URL: bridge.url,
      REALTIME_BRIDGE_SECRET: 's',
      REALTIME_ENV_FILE: envFile,
      REALTIME_PROBE_INTERVAL_MS: '100',
    });
    expect((await child.next('ready')).active).toBe('redis-streams');
  });

  afterAll(async () => {
    await child?.stop();
    client.disconnect();
    await bridge.close();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves traffic to the bridge after REALTIME_USE_REDIS_STREAMS=false and SIGHUP, losing nothing, and back', async () => {
    child.send({ cmd: 'publish', count: 3000, perSecond: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    writeFileSync(envFile, 'REALTIME_USE_REDIS_STREAMS=false\n');
    child.signal('SIGHUP');
    const flip = await child.next('flags');
    expect(flip.flags).toMatchObject({ useRedisStreams: false });
    const publishedBeforeFlip = flip.publishedSoFar as number;
    const published = (await child.next('published')).ids as string[];

    const inStream = (await readStream(client, streamKey('realtime', 0))).map((e) => e.id);
    const overBridge = new Set(bridge.ids());
    const delivered = new Set([...inStream, ...overBridge]);
    expect(published).toHaveLength(3000);
    expect(published.filter((id) => !delivered.has(id))).toEqual([]);
    expect(inStream.filter((id) => overBridge.has(id))).toEqual([]);
    // Everything published after the flip went over the bridge; Redis has only what came before.
    expect(published.slice(publishedBeforeFlip).every((id) => overBridge.has(id))).toBe(true);
    expect(inStream.length).toBeGreaterThan(300);
    expect(inStream.length).toBeLessThanOrEqual(publishedBeforeFlip);
    expect(publishedBeforeFlip).toBeLessThan(3000);

    // And back, the same way, without a restart.
    writeFileSync(envFile, 'REALTIME_USE_REDIS_STREAMS=true\n');
    child.signal('SIGHUP');
    expect((await child.next('flags')).flags).toMatchObject({ useRedisStreams: true });
    child.send({ cmd: 'publish', count: 10, perSecond: 1000 });
    const after = (await child.next('published')).ids as string[];
    const streamAfter = new Set((await readStream(client, streamKey('realtime', 0))).map((e) => e.id));
    expect(after.every((id) => streamAfter.has(id))).toBe(true);
  });

  it('refuses a reload with a bad value and keeps the flags in force', async () => {
    writeFileSync(envFile, 'REALTIME_REDIS_STREAMS_PERCENTAGE=150\n');
    child.signal('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.send({ cmd: 'flags' });
    const flags = await child.next('flags');
    expect(flags.flags).toMatchObject({ useRedisStreams: true, redisStreamsPercentage: 100 });
    expect(child.output.join('')).toMatch(
      /Reload of .* refused, flags unchanged: .*REALTIME_REDIS_STREAMS_PERCENTAGE \(redisStreamsPercentage\) must be a number between 0 and 100/,
    );
  });
});
