/**
 * Calls `publish(seq)` at a steady rate (in small bursts every `tickMs`) until `total` calls were made, like a
 * service under constant load. Resolves when the last one was made.
 */
export function publishSteadily(
  total: number,
  perSecond: number,
  publish: (seq: number) => void,
  tickMs = 10,
): Promise<void> {
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const started = Date.now();
  let seq = 0;
  return new Promise((resolve) => {
    const tick = () => {
      // Catch up on ticks the event loop delayed, so the average rate holds.
      const due = Math.min(total, Math.floor(((Date.now() - started) / tickMs + 1) * perTick));
      while (seq < due) publish(seq++);
      if (seq >= total) resolve();
      else setTimeout(tick, tickMs);
    };
    tick();
  });
}
