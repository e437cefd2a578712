/** One message of a run, at its intended time (ms from the start of posting). */
export interface ScheduledMessage {
  at: number;
  room: string;
  sender: string;
  /** Per sender, from 1: a client's (sender, seq) pairs tell duplicates apart. */
  seq: number;
  /** After the warm-up: recorded into the latency histogram and inside the CPU window. */
  measured: boolean;
}

/**
 * `rate` messages a second over all rooms for `warmupSeconds + seconds`, round-robin over the rooms, the sender
 * cycling through each room's members. Rooms without a member are left out (nobody would receive them).
 */
export function scheduleMessages(
  senders: ReadonlyMap<string, readonly string[]>,
  rate: number,
  warmupSeconds: number,
  seconds: number,
): ScheduledMessage[] {
  const rooms = [...senders].filter(([, members]) => members.length > 0);
  if (rooms.length === 0) return [];
  const seqs = new Map<string, number>();
  const total = Math.round(rate * (warmupSeconds + seconds));
  const messages: ScheduledMessage[] = [];
  for (let i = 0; i < total; i++) {
    const [room, members] = rooms[i % rooms.length];
    const sender = members[Math.floor(i / rooms.length) % members.length];
    const seq = (seqs.get(sender) ?? 0) + 1;
    seqs.set(sender, seq);
    const at = (i * 1000) / rate;
    messages.push({ at, room, sender, seq, measured: at >= warmupSeconds * 1000 });
  }
  return messages;
}

/**
 * Sends every message at its time, open loop: whatever is still in flight, what is due goes now, so a slow server
 * shows as latency instead of slowing the load down. `measuring` runs just before the first measured message.
 * Resolves once every send has settled.
 */
export async function runOpenLoop(
  messages: readonly ScheduledMessage[],
  send: (message: ScheduledMessage) => Promise<void> | void,
  measuring: () => void,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let measured = false;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - started;
      while (next < messages.length && messages[next].at <= now) {
        const message = messages[next++];
        if (message.measured && !measured) {
          measured = true;
          measuring();
        }
        const sending = Promise.resolve(send(message));
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
      }
      if (next >= messages.length) return resolve();
      setTimeout(tick, Math.min(1, Math.max(0, messages[next].at - now)));
    };
    tick();
  });
  if (!measured) measuring();
  await Promise.all(inFlight);
}
