import { type ChatApi, type StoredMessage } from './chat-api';
import { deliveryReport } from './gap-filling-client';
import { TestClient } from './signalr-client';

/**
 * GapFillingClient for a connection in several rooms (whose groups may live on several shards): a stock client
 * that retries for ever, re-joins its rooms after each new connection and fills each room's gap from the REST API
 * (after the last id it showed in that room), holding live messages meanwhile and dropping ids it already shows.
 * A stateful resume is not a new connection: `reconnects` counts only the times the client started over.
 */
export class RoomsClient {
  readonly client: TestClient;
  /** Ids delivered live more than once (a resume must make this 0). */
  liveDuplicates = 0;
  reconnects = 0;
  private readonly shownIn = new Map<string, StoredMessage[]>();
  private readonly seen = new Set<string>();
  private readonly liveIds = new Set<string>();
  private readonly held: StoredMessage[] = [];
  private lastIdsAtDisconnect = new Map<string, string | undefined>();
  private filling = false;
  private fills: Promise<void> = Promise.resolve();

  constructor(
    hubUrl: string,
    token: string,
    readonly rooms: readonly string[],
    private readonly api: ChatApi,
    retryEveryMs = 200,
  ) {
    for (const room of rooms) this.shownIn.set(room, []);
    this.client = new TestClient(hubUrl, token, {
      methods: [],
      statefulReconnect: true,
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
      this.lastIdsAtDisconnect = new Map(rooms.map((room) => [room, this.shown(room).at(-1)?.id]));
    });
    connection.onreconnected(() => {
      this.reconnects++;
      this.fills = this.fills.then(() => this.fillGaps());
    });
  }

  async start(): Promise<this> {
    await this.client.start();
    for (const room of this.rooms) await this.client.connection.invoke('JoinRoom', room);
    return this;
  }

  /** What the client shows in a room, in the order it showed it. */
  shown(room: string): StoredMessage[] {
    return this.shownIn.get(room)!;
  }

  /** Resolves once no gap fill is running. */
  settled(): Promise<void> {
    return this.fills;
  }

  /** Lost, duplicated and out-of-order counts per room against what the service stored (`stored` by room). */
  report(stored: ReadonlyMap<string, readonly StoredMessage[]>) {
    return this.rooms.map((room) => ({ room, ...deliveryReport(stored.get(room) ?? [], this.shown(room)) }));
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  private async fillGaps(): Promise<void> {
    this.filling = true;
    try {
      for (const room of this.rooms) {
        await this.client.connection.invoke('JoinRoom', room);
        let after = this.lastIdsAtDisconnect.get(room);
        for (;;) {
          const page = await this.api.list(room, after, 500);
          for (const message of page) this.show(message);
          if (page.length < 500) break;
          after = page[page.length - 1].id;
        }
      }
    } finally {
      this.filling = false;
      for (const message of this.held.splice(0)) this.show(message);
    }
  }

  private show(message: StoredMessage): void {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.shownIn.get(message.roomId)?.push(message);
  }
}
