/**
 * The floor of `npm run bench:fan-in -- --rate`: a bare consumer in a process of its own (so its CPU is measured
 * from /proc as the gateway's is), blocking `XREADGROUP` on one stream and acknowledging what each read brought,
 * nothing else: what any Redis Streams consumer pays per read.
 *   env: REDIS_URL, STREAM_KEY, NOACK=1 to read without acknowledging (as interest routing does).
 */
import Redis from 'ioredis';

type Reply = Array<[string, Array<[string, string[]]>]> | null;

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL!);
  const key = process.env.STREAM_KEY!;
  const noAck = process.env.NOACK === '1';
  const group = noAck ? 'floor-noack' : 'floor';
  await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
  process.send!({ event: 'ready' });
  let read = 0;
  process.on('message', () => process.send!({ event: 'read', read }));
  for (;;) {
    const args = ['GROUP', group, 'c', 'COUNT', 256, 'BLOCK', 5000, ...(noAck ? ['NOACK'] : []), 'STREAMS', key, '>'];
    const reply = (await redis.call('XREADGROUP', args)) as Reply;
    const entries = reply?.[0]?.[1] ?? [];
    read += entries.length;
    if (!noAck && entries.length > 0) await redis.xack(key, group, ...entries.map(([id]) => id));
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
