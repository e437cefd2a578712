import { ReplyError } from 'ioredis';
import { RedisWritesRefusedError } from '../errors/redis-writes-refused.error';
import { probeWrites, writeRefusalOf } from './redis-write-probe';
import type { StreamAppender } from './stream-append.script';

/** An error reply as ioredis rejects with it (typed as an Error: its typings do not say so). */
const replyError = (message: string): Error => new ReplyError(message) as Error;

/** Replies as Redis 7 sends them for a write refused inside the append script, and as Redis 6 wrapped them. */
const REFUSALS = [
  ['OOM', "OOM command not allowed when used memory > 'maxmemory'. script: a1802d46, on @user_script:3."],
  ['READONLY', "READONLY You can't write against a read only replica. script: a1802d46, on @user_script:3."],
  [
    'MISCONF',
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk. Commands that may modify the data set are disabled.',
  ],
  ['NOREPLICAS', 'NOREPLICAS Not enough good replicas to write.'],
  [
    'READONLY',
    "ERR Error running script (call to f_a1802d46): @user_script:3: -READONLY You can't write against a read only replica.",
  ],
] as const;

describe('writeRefusalOf', () => {
  it.each(REFUSALS)('classifies %s from "%s"', (refusal, reply) => {
    expect(writeRefusalOf(replyError(reply))).toBe(refusal);
  });

  it.each([
    'Connection is closed.',
    'connect ECONNREFUSED 127.0.0.1:6379',
    'redis-streams health probe timed out after 500 ms',
    'LOADING Redis is loading the dataset in memory',
    'NOSCRIPT No matching script. Please use EVAL.',
    "ERR unknown command 'FOO'",
    'BOOM the OOM killer was here',
  ])('is no refusal for "%s"', (message) => {
    expect(writeRefusalOf(replyError(message))).toBeUndefined();
  });
});

describe('probeWrites', () => {
  const appender = (reply: () => Promise<number>) => {
    const calls: string[][] = [];
    const redis: StreamAppender = {
      realtimeAppend: (...args: string[]) => {
        calls.push(args);
        return reply();
      },
    };
    return { redis, calls };
  };

  it('runs the append script with no envelope on the stream and its counter (a write on their slot)', async () => {
    const { redis, calls } = appender(async () => 41);
    await probeWrites(redis, 'realtime:{3}');
    expect(calls).toEqual([['realtime:{3}', 'realtime:{3}:seq', '0', '0']]);
  });

  it.each(REFUSALS)('fails on a %s refusal, saying what to fix', async (refusal, reply) => {
    const { redis } = appender(() => Promise.reject(replyError(reply)));
    const failure = await probeWrites(redis, 'realtime:{0}').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RedisWritesRefusedError);
    expect(failure).toMatchObject({ refusal, transport: 'redis-streams' });
    expect((failure as Error).message).toMatch(/^redis-streams is unavailable: Redis refuses writes \(/);
    expect((failure as Error).message).toContain(reply);
  });

  it('fails with any other error as it is', async () => {
    const lost = new Error('Connection is closed.');
    const { redis } = appender(() => Promise.reject(lost));
    await expect(probeWrites(redis, 'realtime:{0}')).rejects.toBe(lost);
  });
});
