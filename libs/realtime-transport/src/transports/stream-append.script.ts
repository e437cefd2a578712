import type { RedisConnection } from '@realtime-streams/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';

/**
 * Appends a shard's part of a batch atomically, numbering each entry (field `n`) from a counter kept next to the
 * stream (`<stream>:seq`, same hash tag). Consecutive numbers are what lets a gateway count exactly what it missed
 * when entries were trimmed before it read them, or lost with a Redis restart: a jump from 41 to 45 is 3 entries.
 *
 * Each entry also carries its routing key (field `t`: `group:<name>`, `user:<id>` or `all`) and, for an envelope
 * numbered in its target's order, that number (field `q`): a gateway with no client for the target skips the entry
 * on these alone, without parsing the envelope (see StreamReader). Readers find `e` by name, so older gateways
 * read these entries as before.
 *
 * Retention is by time, on Redis's own clock (`MINID ~ now - retention`), with `MAXLEN ~` as the memory guard.
 * KEYS: stream, counter. ARGV: retention ms (0: none), max length, then per envelope its JSON, its routing key and
 * its target number ('' when none). Returns the number of the last entry appended.
 *
 * With no envelope it is the write probe (see redis-write-probe.ts): `INCRBY counter 0` is a write on the shard's
 * own slot through the same script, so a Redis that answers PING but refuses writes (OOM, READONLY, MISCONF,
 * NOREPLICAS) refuses the probe exactly as it refuses an append; nothing else runs.
 */
const APPEND = `
local count = (#ARGV - 2) / 3
local n = redis.call('INCRBY', KEYS[2], count) - count
if count == 0 then return n end
local retention = tonumber(ARGV[1])
local minid = nil
if retention > 0 then
  local t = redis.call('TIME')
  local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - retention
  if cutoff > 0 then minid = string.format('%.0f', cutoff) end
end
for i = 3, #ARGV, 3 do
  n = n + 1
  local fields = {'e', ARGV[i], 'n', n, 't', ARGV[i + 1]}
  if ARGV[i + 2] ~= '' then
    fields[7] = 'q'
    fields[8] = ARGV[i + 2]
  end
  if minid then
    redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', unpack(fields))
  else
    redis.call('XADD', KEYS[1], '*', unpack(fields))
  end
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[2])
return n
`;

/** The script's arguments for one envelope: its JSON, its routing key, its number in its target's order or ''. */
export function appendArguments(outbound: OutboundEnvelope, into: string[]): void {
  const { envelope } = outbound;
  const numbered = envelope.seq !== undefined && !envelope.volatile;
  into.push(outbound.json, outbound.targetKey, numbered ? String(envelope.seq) : '');
}

export interface StreamAppender {
  realtimeAppend(
    stream: string,
    counter: string,
    retentionMs: string,
    maxLen: string,
    /** Per envelope: JSON, routing key, target number or '' (see appendArguments). */
    ...entries: string[]
  ): Promise<number>;
}

/** Registers the script on a connection (EVALSHA, loaded on first use). */
export function defineStreamAppend<R extends RedisConnection>(redis: R): R & StreamAppender {
  redis.defineCommand('realtimeAppend', { numberOfKeys: 2, lua: APPEND });
  return redis as R & StreamAppender;
}
