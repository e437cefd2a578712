import { randomFillSync } from 'node:crypto';

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_IDS = 512;

/**
 * UUIDv7 ids (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter, then random bits. Ids from one generator
 * sort in publish order even within a millisecond, which keeps them useful as cursors. Random bytes are drawn in
 * blocks because one `randomFillSync` call per id costs more than the rest of the id.
 */
export class EventIdGenerator {
  private readonly pool = Buffer.allocUnsafe(POOL_IDS * 8);
  private poolOffset = this.pool.length;
  private lastMs = -1;
  private counter = 0;

  next(nowMs: number = Date.now()): string {
    let ms = Math.floor(nowMs);
    if (ms > this.lastMs) {
      this.lastMs = ms;
      // Start each millisecond at a random point low in the range, leaving room to count up.
      this.counter = this.randomByte();
    } else {
      ms = this.lastMs;
      this.counter++;
      if (this.counter > 0xfff) {
        // 4096 ids in one millisecond: borrow the next millisecond rather than repeat or go backwards.
        this.lastMs = ++ms;
        this.counter = 0;
      }
    }
    if (this.poolOffset + 8 > this.pool.length) {
      randomFillSync(this.pool);
      this.poolOffset = 0;
    }
    const r = this.pool;
    const o = this.poolOffset;
    this.poolOffset += 8;
    const high = Math.floor(ms / 0x1000000);
    const low = ms % 0x1000000;
    return (
      HEX[(high >>> 16) & 0xff] +
      HEX[(high >>> 8) & 0xff] +
      HEX[high & 0xff] +
      HEX[(low >>> 16) & 0xff] +
      '-' +
      HEX[(low >>> 8) & 0xff] +
      HEX[low & 0xff] +
      '-' +
      HEX[0x70 | (this.counter >>> 8)] +
      HEX[this.counter & 0xff] +
      '-' +
      HEX[0x80 | (r[o] & 0x3f)] +
      HEX[r[o + 1]] +
      '-' +
      HEX[r[o + 2]] +
      HEX[r[o + 3]] +
      HEX[r[o + 4]] +
      HEX[r[o + 5]] +
      HEX[r[o + 6]] +
      HEX[r[o + 7]]
    );
  }

  private randomByte(): number {
    if (this.poolOffset >= this.pool.length) {
      randomFillSync(this.pool);
      this.poolOffset = 0;
    }
    return this.pool[this.poolOffset++];
  }
}
