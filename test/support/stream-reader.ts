import type Redis from 'ioredis';
import type { Envelope } from '@realtime-streams/transport';

/** Every envelope in a stream, parsed, in stream order. */
export async function readStream(redis: Redis, key: string): Promise<Envelope[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1]) as Envelope);
}

/** Polls until `check` passes or the time is up (then throws its last error). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
