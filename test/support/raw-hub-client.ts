import WebSocket from 'ws';

const RS = '\u001e';

/**
 * A hand-driven WebSocket client of the hub, for what the stock client never does: bad frames, no handshake,
 * not reading. Records every frame and how the socket closed.
 */
export class RawHubClient {
  readonly frames: string[] = [];
  /** The same frames as bytes (MessagePack frames are binary). */
  readonly rawFrames: Buffer[] = [];
  closeCode?: number;
  closeReason?: string;
  socket!: WebSocket;

  private constructor() {}

  /** Negotiates (unless `skipNegotiation`), then opens the socket. */
  static async connect(hubUrl: string, token: string, options: { handshake?: boolean } = {}): Promise<RawHubClient> {
    const client = new RawHubClient();
    const negotiate = await fetch(`${hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (negotiate.status !== 200) throw new Error(`negotiate answered ${negotiate.status}`);
    const { connectionToken } = (await negotiate.json()) as { connectionToken: string };
    client.socket = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}?id=${connectionToken}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    client.socket.on('message', (data: Buffer) => {
      client.rawFrames.push(data);
      client.frames.push(data.toString('utf8'));
    });
    client.socket.on('close', (code, reason) => {
      client.closeCode = code;
      client.closeReason = reason.toString();
    });
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    if (options.handshake !== false) {
      client.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS);
      await client.waitForFrames(1);
    }
    return client;
  }

  send(frame: string | Buffer): void {
    this.socket.send(frame);
  }

  /** Every record received so far, parsed. */
  records(): Array<Record<string, unknown>> {
    return this.frames.flatMap((frame) =>
      frame
        .split(RS)
        .filter((part) => part !== '')
        .map((part) => JSON.parse(part) as Record<string, unknown>),
    );
  }

  async waitForFrames(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.frames.length} of ${count} frames arrived`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async waitForClose(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('the server did not close the socket');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops reading from the socket: what the server sends piles up in its buffers. */
  stopReading(): void {
    (this.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  close(): void {
    this.socket.terminate();
  }
}
