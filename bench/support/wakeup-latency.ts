import { createFailFastRedis } from '@realtime-streams/common';
import { forEachRedisSetup, type SetupName } from './redis-setups';

export interface WakeupLatency {
  setup: SetupName;
  samples: number;
  p50Ms: number;
  p99Ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stream hop alone, with nothing else running: an entry appended every 2 ms, read by a consumer blocked in
 * `XREADGROUP` on a fail-fast connection of the kind the gateway uses (a Cluster one on the cluster), time from
 * XADD to the read in hand. Tells the path's own cost from the queueing a loaded box adds in the e2e runs.
 */
export async function compareWakeupLatency(entries = 1000): Promise<WakeupLatency[]> {
  return forEachRedisSetup(1, async (redis) => {
    const connection =
      redis.name === 'cluster'
        ? { url: 'redis://unused', clusterNodes: redis.moduleOptions.clusterNodes }
        : redis.moduleOptions.url!;
    const reader = createFailFastRedis(connection, 'wakeup-reader');
    const writer = redis.client();
    const key = `wakeup:{${redis.layout === 'balanced' ? '0.1' : '0'}}`;
    try {
      await reader.connect();
      await writer.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
      const latencies: number[] = [];
      let reading = true;
      const loop = (async () => {
        while (reading) {
          const reply = (await reader.call(
            'XREADGROUP',
            'GROUP',
            'g',
            'c',
            'COUNT',
            100,
            'BLOCK',
            1000,
            'STREAMS',
            key,
            '>',
          )) as Array<[string, Array<[string, string[]]>]> | null;
          const now = performance.now();
          for (const [, read] of reply ?? []) for (const [, fields] of read) latencies.push(now - Number(fields[1]));
        }
      })();
      await sleep(200);
      for (let i = 0; i < entries; i++) {
        await writer.xadd(key, '*', 't', String(performance.now()));
        await sleep(2);
      }
      await sleep(200);
      reading = false;
      await loop;
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] * 1000) / 1000;
      return { setup: redis.name, samples: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99) };
    } finally {
      reader.disconnect();
      writer.disconnect();
    }
  });
}
