import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port';

/**
 * A small TCP load balancer for tests: each new client connection goes to the first backend (127.0.0.1 ports, in
 * order) that accepts one. It can cut every connection at once (both ends see the socket die, no WebSocket close),
 * stop forwarding (a client that stops reading, a stalled network), and refuse new connections for a while.
 */
export class FirstLiveProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private refusing = false;
  private paused = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly backends: number[],
  ) {}

  static async start(backends: number[]): Promise<FirstLiveProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new FirstLiveProxy(server, port, backends);
    server.on('connection', (client) => void proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Cuts every connection now, both ends. */
  cutAll(): void {
    const pairs = [...this.pairs];
    this.pairs.clear();
    for (const [client, backend] of pairs) {
      client.destroy();
      backend.destroy();
    }
  }

  /** Stops forwarding in both directions: kernel buffers fill, nobody reads. */
  pauseAll(): void {
    this.paused = true;
    for (const [client, backend] of this.pairs) {
      client.pause();
      backend.pause();
    }
  }

  resumeAll(): void {
    this.paused = false;
    for (const [client, backend] of this.pairs) {
      client.resume();
      backend.resume();
    }
  }

  /** While set, new connections are closed at once (the network is down). */
  setRefusing(refusing: boolean): void {
    this.refusing = refusing;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Forwards to the first backend that accepts. A backend that closes before sending a byte (a process dying: its
   * port may still complete the TCP handshake) is skipped and the bytes the client sent so far go to the next one,
   * as load balancers retry an empty response (nginx `proxy_next_upstream error`).
   */
  private async accept(client: Socket, from = 0, sent: Buffer[] = []): Promise<void> {
    client.on('error', () => undefined);
    if (this.refusing) return void client.destroy();
    client.pause();
    for (let index = from; index < this.backends.length; index++) {
      const backend = await this.tryConnect(this.backends[index]);
      if (!backend) continue;
      if (client.destroyed) return void backend.destroy();
      this.forward(client, backend, index, sent);
      return;
    }
    client.destroy();
  }

  private forward(client: Socket, backend: Socket, index: number, sent: Buffer[]): void {
    const pair: [Socket, Socket] = [client, backend];
    this.pairs.add(pair);
    let answered = false;
    let retried = false;
    for (const chunk of sent) backend.write(chunk);
    const fromClient = (chunk: Buffer) => {
      if (!answered) sent.push(chunk);
      if (!backend.write(chunk)) client.pause();
    };
    const fromBackend = (chunk: Buffer) => {
      answered = true;
      if (!client.write(chunk)) backend.pause();
    };
    client.on('data', fromClient);
    backend.on('data', fromBackend);
    client.on('drain', () => !this.paused && backend.resume());
    backend.on('drain', () => !this.paused && client.resume());
    client.on('close', () => {
      this.pairs.delete(pair);
      backend.destroy();
    });
    backend.on('close', () => {
      this.pairs.delete(pair);
      if (!answered && !client.destroyed && !retried) {
        retried = true;
        client.off('data', fromClient);
        client.removeAllListeners('close');
        client.removeAllListeners('drain');
        void this.accept(client, index + 1, sent);
        return;
      }
      client.destroy();
    });
    if (this.paused) backend.pause();
    else client.resume();
  }

  private tryConnect(port: number): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        resolve(socket);
      });
      socket.once('error', () => resolve(undefined));
    });
  }
}
