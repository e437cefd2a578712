import { type ChatApi, type StoredMessage } from './chat-api';
import { TestClient } from './signalr-client';

/**
 * A chat client written the way the reference app expects one, in one room or several (whose groups may live on
 * several shards): a stock client that retries for ever, re-joins its rooms after each new connection and fills
 * each room's gap from the REST API. At disconnect it remembers, per room, the last message it shows with none
 * missing below it (by the room's `seq`: a message that came before an older one must not hide the older one), reads
 * every page after it, holds live messages meanwhile and drops ids it already shows. A stateful resume is not a new
 * connection: `reconnects` counts only the times the client started over.
 */
export class RoomsClient {
  readonly client: TestClient;
  /** Ids delivered live more than once (the gateways' dedup, or a resume, should make this 0). */
  liveDuplicates = 0;
  reconnects = 0;
  private readonly rooms = new Map<string, RoomView>();
  private readonly seen = new Set<string>();
  private readonly liveIds = new Set<string>();
  private readonly held: StoredMessage[] = [];
  private filling = false;
  private fills: Promise<void> = Promise.resolve();

  constructor(
    hubUrl: string,
    token: string,
    rooms: readonly string[],
    private readonly api: ChatApi,
    options: { retryEveryMs?: number; statefulReconnect?: boolean } = {},
  ) {
    for (const room of rooms) this.rooms.set(room, new RoomView());
    const retryEveryMs = options.retryEveryMs ?? 200;
    this.client = new TestClient(hubUrl, token, {
      methods: [],
      statefulReconnect: options.statefulReconnect ?? false,
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
      for (const view of this.rooms.values()) view.disconnected();
    });
    connection.onreconnected(() => {
      this.reconnects++;
      this.fills = this.fills.then(() => this.fillGaps());
    });
  }

  get roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  async start(): Promise<this> {
    await this.client.start();
    for (const room of this.rooms.keys()) await this.client.connection.invoke('JoinRoom', room);
    return this;
  }

  /** What the client shows in a room, in the order it showed it. */
  shownIn(room: string): StoredMessage[] {
    return this.rooms.get(room)!.shown;
  }

  /** Lost, duplicated and out-of-order counts per room against what the service stored (`stored` by room). */
  report(stored: ReadonlyMap<string, readonly StoredMessage[]>) {
    return this.roomNames.map((room) => ({ room, ...deliveryReport(stored.get(room) ?? [], this.shownIn(room)) }));
  }

  /** Resolves once no gap fill is running. */
  settled(): Promise<void> {
    return this.fills;
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  private async fillGaps(): Promise<void> {
    this.filling = true;
    try {
      for (const [room, view] of this.rooms) {
        await this.client.connection.invoke('JoinRoom', room);
        let after = view.resumeAtDisconnect;
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
    this.rooms.get(message.roomId)?.show(message);
  }
}

/** What a client shows in one room, and where a gap fill of that room starts. */
class RoomView {
  readonly shown: StoredMessage[] = [];
  resumeAtDisconnect?: string;
  /** The last message shown with none missing below it, and those shown above a hole (seq -> id). */
  private resumeAt?: { id: string; seq: number };
  private readonly aboveHole = new Map<number, string>();

  show(message: StoredMessage): void {
    this.shown.push(message);
    const { id, seq } = message;
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

  disconnected(): void {
    this.resumeAtDisconnect = this.resumeAt?.id;
  }
}

/** The same client in one room: `shown` is that room's list. */
export class GapFillingClient extends RoomsClient {
  constructor(
    hubUrl: string,
    token: string,
    private readonly room: string,
    api: ChatApi,
    retryEveryMs = 200,
    statefulReconnect = false,
  ) {
    super(hubUrl, token, [room], api, { retryEveryMs, statefulReconnect });
  }

  get shown(): StoredMessage[] {
    return this.shownIn(this.room);
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
