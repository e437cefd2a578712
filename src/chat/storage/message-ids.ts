import { randomUUID } from 'node:crypto';

/**
 * Message ids as UUIDv7 (RFC 9562): 48-bit Unix milliseconds, a 12-bit counter, random bits. Ids from one generator
 * grow with time, so each insert lands at the right edge of the id index instead of on a random page: with random
 * (v4) ids every message of a group commit dirtied a page of its own, which the commit then wrote to the WAL and a
 * checkpoint copied again, doubling the storage cost per message. The random tail comes from `randomUUID`
 * (Node draws its entropy in blocks), whose variant bits are already v7's.
 */
export class MessageIds {
  private lastMs = -1;
  private counter = 0;

  next(nowMs: number = Date.now()): string {
    let ms = Math.floor(nowMs);
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.counter = 0;
    } else {
      ms = this.lastMs;
      if (++this.counter > 0xfff) {
        // 4096 ids in one millisecond: borrow the next one rather than repeat or go backwards.
        this.lastMs = ++ms;
        this.counter = 0;
      }
    }
    const time = ms.toString(16).padStart(12, '0');
    // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V in 8-b: its last 17 characters are the variant and
    // random part v7 keeps.
    return `${time.slice(0, 8)}-${time.slice(8)}-7${this.counter.toString(16).padStart(3, '0')}-${randomUUID().slice(19)}`;
  }
}
