/** Stream entry ids (`<ms>-<seq>`) compared as numbers, not strings ("10-0" > "9-0"). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = split(a);
  const [bMs, bSeq] = split(b);
  return aMs !== bMs ? (aMs < bMs ? -1 : 1) : aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

function split(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** A stream id in the `<ms>-<seq>` form Redis returns (what may be stored and sent back to XRANGE). */
export function isStreamId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9]{1,20}-[0-9]{1,20}$/.test(value);
}
