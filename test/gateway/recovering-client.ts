import { tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';

/**
 * A stock client in one group that behaves like the reference app's: it reconnects when the server closes it with
 * `allowReconnect`, re-joins, and fills the gap from the application's store (here `stored()`, the sequence
 * numbers published so far, in order) from the last number it showed at disconnect. Messages carry `{ seq }`.
 */
export class RecoveringClient {
  readonly client: TestClient;
  /** Sequence numbers received live, in arrival order (duplicates included). */
  readonly live: number[] = [];
  /** Sequence numbers the gap fill recovered. */
  readonly filled: number[] = [];
  /** Why the server closed this client each time (the close message's error). */
  readonly closes: string[] = [];
  private readonly shown = new Set<number>();
  private lastShownAtDisconnect = -1;
  private fills: Promise<void> = Promise.resolve();

  constructor(
    hubUrl: string,
    user: string,
    private readonly group: string,
    private readonly stored: () => readonly number[],
  ) {
    this.client = new TestClient(hubUrl, tokenFor(user), { methods: [], reconnect: true });
    const connection = this.client.connection;
    connection.on('ReceiveMessage', (message: { seq: number }) => {
      this.live.push(message.seq);
      this.show(message.seq);
    });
    connection.onreconnecting((error) => {
      this.closes.push(error?.message ?? '(no reason)');
      this.lastShownAtDisconnect = this.shown.size === 0 ? -1 : Math.max(...this.shown);
    });
    connection.onreconnected(() => {
      this.fills = this.fills.then(() => this.fillGap());
    });
  }

  async start(): Promise<this> {
    await this.client.start();
    await this.client.connection.invoke('JoinGroup', this.group);
    return this;
  }

  settled(): Promise<void> {
    return this.fills;
  }

  /** Sequence numbers of 0..total-1 this client never showed. */
  missing(total: number): number[] {
    const missing: number[] = [];
    for (let seq = 0; seq < total; seq++) if (!this.shown.has(seq)) missing.push(seq);
    return missing;
  }

  get liveDuplicates(): number {
    return this.live.length - new Set(this.live).size;
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  private async fillGap(): Promise<void> {
    // Joined first, so what is published from now on arrives live; the fill covers what came before.
    await this.client.connection.invoke('JoinGroup', this.group);
    for (const seq of this.stored()) {
      if (seq > this.lastShownAtDisconnect && !this.shown.has(seq)) {
        this.filled.push(seq);
        this.show(seq);
      }
    }
  }

  private show(seq: number): void {
    this.shown.add(seq);
  }
}
