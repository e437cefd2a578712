import { type ChatApi, type StoredMessage } from './chat-api';
import { TestClient } from './signalr-client';

/**
 * A chat client written the way the reference app expects one: a stock client that retries for ever, re-joins its
 * room after each reconnect and fills the gap from the REST API: it remembers the last id seen at disconnect, reads
 * every page after it, holds live messages meanwhile and drops ids it already shows.
 */
export class GapFillingClient {
  readonly client: TestClient;
  readonly shown: StoredMessage[] = [];
  private readonly seen = new Set<string>();
  /** Ids delivered live more than once (the gateways' dedup should make this 0). */
  liveDuplicates = 0;
  reconnects = 0;
  private readonly liveIds = new Set<string>();
  private filling = false;
  private readonly held: StoredMessage[] = [];
  private lastIdAtDisconnect?: string;
  /** The last message shown with none missing below it, and those shown above a hole (seq -> id). */
  private resumeAt?: { id: string; seq: number };
  private readonly aboveHole = new Map<number, string>();
  private fills: Promise<void> = Promise.resolve();

  constructor(
    hubUrl: string,
    token: string,
    private readonly room: string,
    private readonly api: ChatApi,
    retryEveryMs = 200,
    statefulReconnect = false,
  ) {
    this.client = new TestClient(hubUrl, token, {
      methods: [],
      statefulReconnect,
      // At once, then every `retryEveryMs`: what makes a closing gateway see clients retry on kept-alive connections.
      reconnect: { nextRetryDelayInMilliseconds: (context) => (context.previousRetryCount === 0 ? 0 : retryEveryMs) },
    });
    const connection = this.client.connection;
    connection.on('ReceiveMessage', (message: StoredMessage) => {
      if (this.liveIds.has(message.id)) this.liveDuplicates++;
      this.liveIds.add(message.id);
      if (this.filling) this.held.push(message);
      else this.show(message);
    });
    connection.onreconnecting(() => {
      this.filling = true;
      this.lastIdAtDisconnect = this.resumeAt?.id;
    });
    connection.onreconnected(() => {
      this.reconnects++;
      this.fills = this.fills.then(() => this.fillGap());
    });
  }

  async start(): Promise<this> {
    await this.client.start();
    await this.client.connection.invoke('JoinRoom', this.room);
    return this;
  }

  /** Resolves once no gap fill is running. */
  settled(): Promise<void> {
    return this.fills;
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  private async fillGap(): Promise<void> {
    this.filling = true;
    try {
      await this.client.connection.invoke('JoinRoom', this.room);
      let after = this.lastIdAtDisconnect;
      for (;;) {
        const page = await this.api.list(this.room, after, 500);
        for (const message of page) this.show(message);
        if (page.length < 500) break;
        after = page[page.length - 1].id;
      }
    } finally {
      this.filling = false;
      for (const message of this.held.splice(0)) this.show(message);
    }
  }

  private show(message: StoredMessage): void {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.shown.push(message);
    this.advanceResume(message);
  }

  private advanceResume({ id, seq }: StoredMessage): void {
    if (this.resumeAt && seq !== this.resumeAt.seq + 1) {
      if (seq > this.resumeAt.seq) this.aboveHole.set(seq, id);
      return;
    }
    this.resumeAt = { id, seq };
    for (let next; (next = this.aboveHole.get(this.resumeAt.seq + 1)) !== undefined;) {
      this.aboveHole.delete(this.resumeAt.seq + 1);
      this.resumeAt = { id: next, seq: this.resumeAt.seq + 1 };
    }
  }
}

/** Lost, duplicated and out-of-order counts of what a client shows against what the service stored. */
export function deliveryReport(stored: readonly StoredMessage[], shown: readonly StoredMessage[]) {
  const position = new Map(stored.map((message, index) => [message.id, index]));
  const ids = new Set<string>();
  let duplicated = 0;
  let outOfOrder = 0;
  let previous = -1;
  for (const message of shown) {
    if (ids.has(message.id)) duplicated++;
    ids.add(message.id);
    const at = position.get(message.id) ?? -1;
    if (at < previous) outOfOrder++;
    previous = Math.max(previous, at);
  }
  const lost = stored.filter((message) => !ids.has(message.id)).length;
  return { lost, duplicated, outOfOrder };
}
