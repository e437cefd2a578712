/**
 * Items that expire a fixed time after they were added, in the order they were added: with one duration, the
 * oldest always expires first, so one timer (for the head) serves every item. Cheaper than a timer per item when
 * tens of thousands of keys are active at once.
 */
export class ExpiryQueue<T> {
  private items: Array<{ item: T; at: number }> = [];
  private head = 0;
  private timer?: NodeJS.Timeout;
  private expiring = false;

  constructor(
    private readonly durationMs: number,
    private readonly onExpire: (item: T, at: number) => void,
    private readonly now: () => number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item that expires `durationMs` from now; returns that time. */
  push(item: T): number {
    const at = this.now() + this.durationMs;
    this.items.push({ item, at });
    if (!this.timer && !this.expiring) this.arm(at);
    return at;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - this.now()));
    this.timer.unref?.();
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.now();
    this.expiring = true;
    try {
      while (this.head < this.items.length && this.items[this.head].at <= now) {
        const { item, at } = this.items[this.head++];
        this.onExpire(item, at);
      }
    } finally {
      this.expiring = false;
    }
    // Compact once the consumed prefix dominates, so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.items.length) this.arm(this.items[this.head].at);
    else if (this.head > 0) {
      this.items = [];
      this.head = 0;
    }
  }
}
