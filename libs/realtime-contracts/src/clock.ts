/**
 * Epoch milliseconds with sub-millisecond precision: envelopes carry it as `ts`, and the gateway's end-to-end
 * latency figures subtract it from its own clock.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
