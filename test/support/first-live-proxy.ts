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
    for (const [client, backend] of this.pairs) {
      client.destroy();
      backend.destroy();
    }
    this.pairs.clear();
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

  private async accept(client: Socket): Promise<void> {
    client.on('error', () => undefined);
    if (this.refusing) return void client.destroy();
    client.pause();
    for (const port of this.backends) {
      const backend = await this.tryConnect(port);
      if (!backend) continue;
      if (client.destroyed) return void backend.destroy();
      const pair: [Socket, Socket] = [client, backend];
      this.pairs.add(pair);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        backend.destroy();
      };
      client.on('close', end);
      backend.on('close', end);
      client.pipe(backend);
      backend.pipe(client);
      if (this.paused) backend.pause();
      else client.resume();
      return;
    }
    client.destroy();
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
